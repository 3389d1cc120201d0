"""Maintainer signatures: which commits were signed by a key the base ref allows.

A maintainer approves a sealed-file change by committing the re-sealed lock with an SSH
signature (``git commit -S`` with ``gpg.format=ssh``). The keys that count are listed in
``architecture/allowed_signers`` (``ssh-keygen`` ALLOWED SIGNERS format:
``principal namespaces="git" ssh-ed25519 AAAA...``), read from the base ref, never from the
change under check: a change that adds its own key gains nothing. Verification is git's own
(``gpg.ssh.allowedSignersFile``, which runs ``ssh-keygen -Y verify``); only status ``G`` (good
signature by an allowed principal) counts.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

ALLOWED_SIGNERS = "architecture/allowed_signers"
_FIELDS = ("%H", "%G?", "%GS", "%GF")


@dataclass(frozen=True)
class Signature:
    """How one commit is signed: git's status letter, the principal and the key fingerprint."""

    commit: str
    status: str  # G good and allowed, U good but no allowed principal, B bad, N none, E/X/Y/R other
    principal: str
    key: str

    @property
    def is_maintainer(self) -> bool:
        return self.status == "G" and bool(self.principal)

    def describe(self) -> str:
        short = self.commit[:10]
        if self.is_maintainer:
            return f"commit {short} signed by {self.principal} ({self.key})"
        if self.status == "N":
            return f"commit {short} is not signed"
        if self.status == "U":
            return f"commit {short} is signed by a key not in the base's {ALLOWED_SIGNERS} ({self.key})"
        if self.status == "B":
            return f"commit {short} has a bad signature"
        return f"commit {short} has a signature git cannot verify (status {self.status})"


def signatures(root: Path, allowed_signers: str | None, commits: list[str]) -> dict[str, Signature]:
    """Each commit's signature checked against ``allowed_signers`` (the file's text)."""
    if not commits:
        return {}
    with tempfile.TemporaryDirectory(prefix="harness-signers-") as scratch:
        signers = Path(scratch) / "allowed_signers"
        signers.write_text(allowed_signers or "", encoding="utf-8")
        args = [
            "git",
            "-c",
            f"gpg.ssh.allowedSignersFile={signers}",
            "log",
            "--no-walk=unsorted",
            f"--format={'%x00'.join(_FIELDS)}%x00",
            *commits,
        ]
        try:
            done = subprocess.run(
                args,
                cwd=root,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"},
                check=False,
            )
        except FileNotFoundError as err:
            raise HarnessError("git is not installed; install git to verify signatures") from err
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise HarnessError(f"git log (signatures) in {root}: {detail}")
    parts = done.stdout.split("\0")
    found = {}
    for i in range(0, len(parts) - len(_FIELDS) + 1, len(_FIELDS)):
        commit, status, principal, key = (p.strip() for p in parts[i : i + len(_FIELDS)])
        if commit:
            found[commit] = Signature(commit, status or "N", principal, key)
    return found
