"""Run the trusted checker: the one the policy names, not whichever ``harness`` was invoked.

The harness that runs ``harness check`` may be the change's own (an editable install in the
working tree). When its code (the ``harness`` and ``rules`` packages) differs from the checker
the policy trusts (the base ref's, or the working tree's when a maintainer approved it), the
check is re-run by the trusted code: its packages are exported from git into a temporary folder
and a child interpreter imports them first, then checks the same tree and hands back its JSON
report. When the code is the same nothing extra runs: comparing costs two ``git ls-tree``
calls and hashing the package files.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import git
from harness.errors import HarnessError
from harness.findings import CheckReport

JUDGE_ENV = "HARNESS_TRUSTED_CHECKER"  # set in the child: it is the trusted checker already
_CHECKER_SUFFIXES = (".py", ".json")


def running_checker() -> dict[str, Path]:
    """The folders of the ``harness`` and ``rules`` packages this interpreter imports."""
    from importlib.util import find_spec

    found = {}
    for package in ("harness", "rules"):
        spec = find_spec(package)
        if spec is None or not spec.origin:
            raise HarnessError(f"package {package} is not importable; reinstall harness")
        found[package] = Path(spec.origin).parent
    return found


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _folder_blobs(folder: Path) -> dict[str, str]:
    blobs = {}
    for path in folder.rglob("*"):
        if path.suffix in _CHECKER_SUFFIXES and "__pycache__" not in path.parts and path.is_file():
            blobs[path.relative_to(folder).as_posix()] = _blob_id(path.read_bytes())
    return blobs


def _code(blobs: dict[str, str]) -> dict[str, str]:
    return {p: b for p, b in blobs.items() if p.endswith(_CHECKER_SUFFIXES)}


def predates_trust_root(root: Path, checker_ref: str) -> bool:
    """Whether REF's checker is older than this design (no ``harness/policy.py``): it would read
    the change's own settings, so running it apart would let the change judge itself."""
    return "policy.py" not in git.tree_blobs(root, checker_ref, "harness")


def trusted_checker_is_running(root: Path, checker_ref: str | None) -> bool:
    """Whether the running packages are the trusted checker's (always, when the tree has none)."""
    if os.environ.get(JUDGE_ENV):
        return True
    running = running_checker()
    for package, folder in running.items():
        if checker_ref is None:
            trusted_folder = root / package
            if not (trusted_folder / "__init__.py").is_file():
                return True  # the checker is an installed tool, not code of this repository
            trusted = _folder_blobs(trusted_folder)
        else:
            trusted = _code(git.tree_blobs(root, checker_ref, package))
            if "__init__.py" not in trusted:
                return True
        if _folder_blobs(folder) != trusted:
            return False
    return True


def run_trusted_checker(
    root: Path, checker_ref: str | None, check_args: list[str], label: str
) -> tuple[CheckReport, str]:
    """Check ``root`` with the checker of ``checker_ref`` (None: the working tree's code).

    ``check_args`` are ``harness check`` arguments (without format and output). Returns the
    child's report and its stderr. A child that cannot judge raises HarnessError.
    """
    with tempfile.TemporaryDirectory(prefix="harness-judge-") as scratch:
        if checker_ref is None:
            checker_dir = root
        else:
            checker_dir = Path(scratch) / "checker"
            checker_dir.mkdir()
            git.export_tree(root, checker_ref, ["harness", "rules"], checker_dir)
        output = Path(scratch) / "report.json"
        boot = (
            f"import sys; sys.path.insert(0, {str(checker_dir)!r}); sys.argv[0] = 'harness'; "
            "from harness.cli import main; main()"
        )
        args = [sys.executable, "-c", boot, "check", "--root", str(root), "--format", "json"]
        args += ["--output", str(output), *check_args]
        env = {**os.environ, JUDGE_ENV: label}
        try:
            done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True)
        except OSError as err:
            raise HarnessError(f"cannot start the trusted checker ({label}): {err}") from err
        if done.returncode not in (0, 1) or not output.is_file():
            detail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise HarnessError(f"the trusted checker ({label}) could not judge: {detail}")
        try:
            report = CheckReport.from_dict(json.loads(output.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise HarnessError(
                f"the trusted checker ({label}) wrote no readable report: {err}"
            ) from err
    return report, done.stderr
