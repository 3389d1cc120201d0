"""harness.git against a real repository: changed, untracked, deleted files and text at a ref."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import git
from harness.errors import HarnessError


def test_changed_files_include_untracked_and_skip_deleted(repo: Path, write, commit):
    write({"keep.py": "a = 1\n", "edit.py": "b = 1\n", "gone.py": "c = 1\n"})
    commit()
    write({"edit.py": "b = 2\n", "new.py": "d = 1\n"})
    (repo / "gone.py").unlink()
    assert git.changed_files(repo) == ["edit.py", "new.py"]
    assert git.deleted_files(repo, "HEAD") == ["gone.py"]


def test_repository_without_commits_counts_every_file_as_changed(repo: Path, write):
    write({"a.py": "x = 1\n"})
    assert git.changed_files(repo) == ["a.py", "pyproject.toml"]


def test_file_at_returns_old_text_or_none(repo: Path, write, commit):
    write({"a.py": "old\n"})
    commit()
    write({"a.py": "new\n"})
    assert git.file_at(repo, "HEAD", "a.py") == "old\n"
    assert git.file_at(repo, "HEAD", "missing.py") is None
    with pytest.raises(HarnessError, match="git ref 'nope' not found"):
        git.file_at(repo, "nope", "a.py")


def test_repo_root_is_found_from_a_subfolder_and_none_outside(repo: Path, tmp_path: Path):
    (repo / "pkg").mkdir()
    assert git.repo_root(repo / "pkg") == repo.resolve()
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git.repo_root(outside) is None


def test_project_in_a_subfolder_sees_paths_relative_to_itself(repo: Path, write, commit):
    write({"proj/a.py": "x = 1\n", "other/b.py": "y = 1\n"})
    commit()
    write({"proj/a.py": "x = 2\n", "other/b.py": "y = 2\n", "proj/new.py": "z = 1\n"})
    project = repo / "proj"
    assert git.changed_files(project) == ["a.py", "new.py"]
    assert git.file_at(project, "HEAD", "a.py") == "x = 1\n"
