"""One git worktree per research worker: reset to the best commit, apply a proposal, commit it.

Worktrees live under the tag's folder and share the repository's object store and refs, so a
commit made by one worker is visible to every other at once. The research branch
(``research/<tag>``) always names the current best; it moves only by compare-and-swap
(``git update-ref NEW OLD``), so two workers can never both move it from the same best.
Commits are made with hooks and signing off: they are the loop's bookkeeping, judged by the
gates that follow, not a maintainer's word.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.errors import HarnessError

AUTHOR = ("harness research", "research@harness.invalid")


def git(cwd: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines() or ["failed"]
        raise HarnessError(f"git {' '.join(args[:2])} in {cwd}: {detail[-1]}")
    return done.stdout


class Worktree:
    def __init__(self, repo: Path, path: Path):
        self.repo = repo
        self.path = path

    @classmethod
    def ensure(cls, repo: Path, path: Path, commit: str) -> Worktree:
        """The worktree at ``path`` (created if missing), reset to ``commit``."""
        tree = cls(repo, path)
        if not (path / ".git").exists():
            git(repo, "worktree", "prune")
            path.parent.mkdir(parents=True, exist_ok=True)
            git(repo, "worktree", "add", "--detach", "--force", str(path), commit)
        tree.reset(commit)
        return tree

    def reset(self, commit: str) -> None:
        """Check out ``commit`` exactly: tracked files restored, untracked ones removed."""
        git(self.path, "reset", "--quiet", "--hard", commit)
        git(self.path, "clean", "-q", "-f", "-d")

    def head(self) -> str:
        return git(self.path, "rev-parse", "HEAD").strip()

    def read(self, path: str) -> str | None:
        target = self.path / path
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def commit(self, edits: dict[str, str], message: str) -> str:
        """Write ``edits`` (whole texts) and commit them; returns the commit, "" if nothing changed."""
        for path, text in edits.items():
            target = self.path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        git(self.path, "add", "--", *edits)
        return self.commit_staged(message)

    def apply_patch(self, patch: str) -> bool:
        """Stage ``patch`` (a ``git diff``) on HEAD; False, with nothing changed, if it conflicts."""
        done = subprocess.run(
            ["git", "apply", "--index", "-"], cwd=self.path, input=patch, text=True,
            capture_output=True,
        )  # fmt: skip
        return done.returncode == 0

    def commit_staged(self, message: str) -> str:
        """Commit what is staged; returns the commit, "" when nothing is."""
        if not git(self.path, "diff", "--cached", "--name-only").strip():
            return ""
        name, email = AUTHOR
        git(
            self.path,
            "-c", f"user.name={name}", "-c", f"user.email={email}",
            "commit", "--quiet", "--no-verify", "-m", message,
        )  # fmt: skip
        return self.head()

    def cherry_pick(self, commit: str) -> str:
        """Apply ``commit``'s change on top of HEAD; returns the new commit, "" on a conflict."""
        name, email = AUTHOR
        done = subprocess.run(
            ["git", "-c", f"user.name={name}", "-c", f"user.email={email}",
             "-c", "commit.gpgsign=false", "cherry-pick", "--allow-empty", commit],
            cwd=self.path, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            git(self.path, "cherry-pick", "--abort", check=False)
            return ""
        return self.head()


def diff(repo: Path, parent: str, commit: str) -> str:
    return git(repo, "diff", "--no-color", parent, commit)


def lines_added(repo: Path, parent: str, commit: str) -> int:
    """Net lines added by ``commit`` over ``parent`` (added minus removed, never below zero)."""
    total = 0
    for line in git(repo, "diff", "--numstat", parent, commit).splitlines():
        added, removed, _ = line.split("\t", 2)
        if added.isdigit() and removed.isdigit():
            total += int(added) - int(removed)
    return max(total, 0)


def branch_tip(repo: Path, branch: str) -> str:
    return git(repo, "rev-parse", "--verify", f"refs/heads/{branch}").strip()


def move_branch(repo: Path, branch: str, new: str, old: str) -> bool:
    """Compare-and-swap the branch from ``old`` to ``new``; False when it had moved meanwhile."""
    done = subprocess.run(
        ["git", "update-ref", f"refs/heads/{branch}", new, old], cwd=repo, capture_output=True
    )
    return done.returncode == 0
