"""Fixtures for the harness engine tests: real temporary git repositories and a CLI runner."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return result.stdout


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository with an identity and a pyproject.toml without [tool.harness]."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "test@example.com")
    _git(root, "config", "user.name", "Test")
    _write(root, {"pyproject.toml": '[project]\nname = "demo"\nversion = "0"\n'})
    return root


@pytest.fixture
def write(repo: Path) -> Callable[[dict[str, str]], None]:
    """Write ``{repo-relative path: text}`` into the repo."""
    return lambda files: _write(repo, files)


@pytest.fixture
def commit(repo: Path) -> Callable[[], None]:
    """Stage everything and commit it."""

    def run(message: str = "commit") -> None:
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", message)

    return run


@pytest.fixture
def cli(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Callable:
    """Invoke ``harness`` inside ``repo``; returns click's Result."""
    from harness.cli import main

    monkeypatch.chdir(repo)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)
