"""Fixtures for the gate tests: real temporary git repositories with real commits."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` with a fixed identity; return stdout."""
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture(name="git")
def git_fixture() -> Callable[..., str]:
    """The ``git(root, *args)`` runner, for tests that commit or inspect history."""
    return git


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """Create a git repo holding ``files`` in one commit tagged ``base``; return its root."""

    def make(files: dict[str, str]) -> Path:
        root = tmp_path / "repo"
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.name", "Test Author")
        git(root, "config", "user.email", "author@example.com")
        write_files(root, files)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "base")
        git(root, "tag", "base")
        return root

    return make
