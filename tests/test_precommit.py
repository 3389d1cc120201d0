"""`pre-commit run --all-files` with this repository's hooks, in a real temporary git repository.

The hooks are `repo: local` + `language: system`, so nothing is downloaded; the test rewrites
their `.venv/bin/harness` entry to the harness next to the running interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import protect

REPO = Path(__file__).resolve().parents[1]
HARNESS = Path(sys.executable).parent / "harness"
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Hook Tester",
    "GIT_AUTHOR_EMAIL": "hooks@example.com",
    "GIT_COMMITTER_NAME": "Hook Tester",
    "GIT_COMMITTER_EMAIL": "hooks@example.com",
}


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def hooked_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    if not HARNESS.exists() or not PRE_COMMIT.exists():
        pytest.skip(
            "harness or pre-commit is not installed next to the interpreter (run `make install`)"
        )
    root = tmp_path / "repo"
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    config = (
        (REPO / ".pre-commit-config.yaml").read_text().replace(".venv/bin/harness", str(HARNESS))
    )
    files = {
        ".pre-commit-config.yaml": config,
        "pyproject.toml": '[tool.ruff]\nline-length = 100\n[tool.ruff.lint]\nselect = ["E", "F"]\n',
        "pkg/__init__.py": '"""A tiny package for the hook test."""\n',
        "pkg/values.py": '"""Constants the hook test formats and lints."""\n\nLIMIT = 3\n',
        "architecture/protected.toml": 'sealed = ["pkg/values.py", "architecture/protected.toml"]\n',
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    run(["git", "init", "-q", "-b", "main"], root, env).check_returncode()
    protect.approve(root, reason="seal the test package", who="Hook Tester")
    run(["git", "add", "-A"], root, env).check_returncode()
    run(["git", "commit", "-q", "-m", "init"], root, env).check_returncode()
    return root, env


def test_hooks_pass_on_a_clean_repository(hooked_repo: tuple[Path, dict[str, str]]) -> None:
    root, env = hooked_repo
    done = run([str(PRE_COMMIT), "run", "--all-files"], root, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "harness check (fast tier)" in done.stdout and "Passed" in done.stdout


def test_fast_hook_fails_on_an_unformatted_file_and_names_it(
    hooked_repo: tuple[Path, dict[str, str]],
) -> None:
    root, env = hooked_repo
    (root / "pkg/extra.py").write_text('"""Badly formatted."""\n\nx=1\n')
    run(["git", "add", "pkg/extra.py"], root, env).check_returncode()
    done = run([str(PRE_COMMIT), "run", "--all-files"], root, env)
    assert done.returncode == 1
    assert "FMT001" in done.stdout and "pkg/extra.py" in done.stdout


def test_fast_hook_fails_when_a_sealed_file_changes(
    hooked_repo: tuple[Path, dict[str, str]],
) -> None:
    root, env = hooked_repo
    (root / "pkg/values.py").write_text(
        '"""Constants the hook test formats and lints."""\n\nLIMIT = 4\n'
    )
    done = run([str(PRE_COMMIT), "run", "--all-files"], root, env)
    assert done.returncode == 1
    assert "PROT001" in done.stdout


def test_published_hook_manifest_and_config_validate() -> None:
    manifest = run(
        [str(PRE_COMMIT), "validate-manifest", ".pre-commit-hooks.yaml"], REPO, dict(os.environ)
    )
    config = run(
        [str(PRE_COMMIT), "validate-config", ".pre-commit-config.yaml"], REPO, dict(os.environ)
    )
    assert manifest.returncode == 0, manifest.stdout
    assert config.returncode == 0, config.stdout


def test_full_hook_runs_once_on_the_whole_repository_before_a_push() -> None:
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["harness-full"]["pass_filenames"] is False
    assert "pre-push" in hooks["harness-full"]["stages"]
    assert hooks["harness-fast"].get("pass_filenames", True) is True
    assert hooks["harness-fast"]["entry"].startswith("harness check --gate format")
