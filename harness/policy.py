"""The policy that judges a change, and whether the change may bring its own.

Without ``--base`` the working tree judges itself (local use: a maintainer's own checks and
``harness protect approve`` work as they always have). With ``--base REF`` the change is under
judgement, so everything that decides the verdict comes from REF: the sealed manifest and lock,
``[tool.harness]`` of pyproject.toml, the architecture contracts and their remediation, the
allowed signers, and the checker itself (``harness/``, ``rules/``). The change's own versions
count only when a maintainer approved them outside the change:

- its lock is byte-identical to the lock of a commit in ``REF..HEAD`` that changed the lock and
  carries an SSH signature by a key in REF's ``architecture/allowed_signers``; or
- the run was given ``--maintainer-approval TEXT``, which the hosted workflow sets only from a
  maintainer-only signal (see ``architecture/trust.md``).

An approval written inside the change (``harness protect approve`` run by the change, a lock
edited by hand) never counts; the protected gate reports it (PROT004) and judges the change by
REF's lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import git, protect
from harness.config import Settings, parse_settings
from harness.errors import HarnessError
from harness.signatures import ALLOWED_SIGNERS, Signature, signatures

CONTRACTS = "architecture/contracts.toml"
REMEDIATION = "architecture/remediation.toml"
PYPROJECT = "pyproject.toml"
# The files whose text the judge reads, from REF unless the change's policy is approved.
POLICY_FILES = (protect.MANIFEST, protect.LOCK, ALLOWED_SIGNERS, PYPROJECT, CONTRACTS, REMEDIATION)
CHECKER_PACKAGES = ("harness", "rules")  # the checker's code, as folders of the repository


@dataclass(frozen=True)
class Approval:
    """Who approved the change's own policy, and how the harness knows."""

    by: str
    how: str


@dataclass(frozen=True)
class Policy:
    """The policy files as the judge reads them, the settings they give, and where they came from."""

    texts: Mapping[str, str | None]
    settings: Settings
    base: str | None = None  # the base ref as given
    base_commit: str | None = None
    base_texts: Mapping[str, str | None] = field(default_factory=dict)
    approval: Approval | None = None
    refusal: str = ""  # why the change's own lock does not count (empty: unchanged or approved)
    checker_ref: str | None = None  # commit whose checker judges; None: the working tree's

    @property
    def is_from_base(self) -> bool:
        return self.base is not None and self.approval is None

    @property
    def source(self) -> str:
        if self.base is None:
            return "working tree"
        if self.approval is not None:
            return f"change, approved by {self.approval.by} ({self.approval.how})"
        return f"base {self.base} ({(self.base_commit or '')[:10]})"

    def read(self, path: str) -> str | None:
        """A policy file's text as the judge sees it (from the base unless approved)."""
        return self.texts.get(path)

    def manifest(self) -> protect.Manifest:
        where = protect.MANIFEST if not self.is_from_base else f"{protect.MANIFEST} at {self.base}"
        return protect.parse_manifest(self.read(protect.MANIFEST), where)

    def lock(self) -> dict[str, Any]:
        where = protect.LOCK if not self.is_from_base else f"{protect.LOCK} at {self.base}"
        return protect.parse_lock(self.read(protect.LOCK), where)

    def base_lock(self) -> dict[str, Any] | None:
        try:
            return protect.parse_lock(self.base_texts.get(protect.LOCK))
        except protect.ManifestError:
            return None


def _working_texts(root: Path) -> dict[str, str | None]:
    texts: dict[str, str | None] = {}
    for path in POLICY_FILES:
        try:
            texts[path] = (root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            texts[path] = None
    return texts


def settings_from(text: str | None, root: Path, source: str) -> Settings:
    """Settings from a pyproject.toml text (defaults when absent)."""
    if text is None:
        return Settings(root=root, source=source)
    import tomllib

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise HarnessError(f"{source}: not valid TOML ({err}); fix the file") from err
    return parse_settings(document.get("tool", {}).get("harness", {}), root=root, source=source)


def load_policy(root: Path, base: str | None = None, maintainer_approval: str = "") -> Policy:
    """The policy that judges the working tree of ``root`` against ``base``."""
    work = _working_texts(root)
    if base is None:
        return Policy(texts=work, settings=settings_from(work[PYPROJECT], root, PYPROJECT))
    commit = git.resolve(root, base)
    at_base = git.files_at(root, commit, list(POLICY_FILES))
    approval, refusal = _approval(root, commit, work, at_base, maintainer_approval.strip())
    if approval is None:
        return Policy(
            texts=at_base,
            settings=settings_from(at_base[PYPROJECT], root, f"{PYPROJECT} at {base}"),
            base=base,
            base_commit=commit,
            base_texts=at_base,
            refusal=refusal,
            checker_ref=commit,
        )
    checker_ref = None if not _checker_drift(root, work) else commit
    return Policy(
        texts=work,
        settings=settings_from(work[PYPROJECT], root, PYPROJECT),
        base=base,
        base_commit=commit,
        base_texts=at_base,
        approval=approval,
        checker_ref=checker_ref,
    )


def _approval(
    root: Path,
    base_commit: str,
    work: Mapping[str, str | None],
    at_base: Mapping[str, str | None],
    flag: str,
) -> tuple[Approval | None, str]:
    """(approval, "") when the change's own policy counts, else (None, why it does not)."""
    if flag:
        return Approval(flag, "--maintainer-approval"), ""
    if work[protect.LOCK] == at_base[protect.LOCK]:
        return None, ""
    candidates = [
        c
        for c in git.commits_touching(root, base_commit, protect.LOCK)
        if git.files_at(root, c, [protect.LOCK])[protect.LOCK] == work[protect.LOCK]
    ]
    if not candidates:
        return None, (
            "no commit since the base holds this lock (it was edited after the last commit, "
            "or by hand)"
            if git.commits_touching(root, base_commit, protect.LOCK)
            else "the lock was changed without a commit"
        )
    if at_base[ALLOWED_SIGNERS] is None:
        return None, f"the base has no {ALLOWED_SIGNERS}, so no signature can count"
    found: dict[str, Signature] = signatures(root, at_base[ALLOWED_SIGNERS], candidates)
    for commit in candidates:
        signature = found.get(commit)
        if signature is not None and signature.is_maintainer:
            return Approval(signature.principal, signature.describe()), ""
    described = [found[c].describe() for c in candidates if c in found]
    return None, "; ".join(described) or "no signed commit holds this lock"


def _checker_drift(root: Path, work: Mapping[str, str | None]) -> bool:
    """Whether the working tree's checker code differs from the approved lock's hashes."""
    try:
        manifest = protect.parse_manifest(work[protect.MANIFEST])
        lock = protect.parse_lock(work[protect.LOCK])
    except protect.ManifestError:
        return True
    return any(
        d.file.split("/", 1)[0] in CHECKER_PACKAGES for d in protect.drift(root, manifest, lock)
    )
