"""The protected gate: sealed files and tables must match the hashes a maintainer approved.

Sealed are the evaluation, data preparation, benchmarks, the checker (``harness/``, ``rules/``,
``golden/``), the contracts, the allowed signers, the manifest and ``[tool.harness]``. An agent
that edits the metric, the data or the checks has changed what "better" means; the gate makes
that visible and blocks it until a maintainer approves. With ``--base`` the lock it compares
against is the base's unless the change's own lock was approved outside the change
(``harness.policy``); an approval the change wrote itself is PROT004.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness import protect
from harness.codes import Code
from harness.findings import Finding
from harness.gates import Gate, GateContext, GateOutput
from harness.policy import Policy

FIX_TITLE = (
    "Revert the change, or have a maintainer approve it: `harness protect approve --reason ...` "
    "committed with their signature (architecture/trust.md)"
)
WHY = "Sealed files define the metric and the checks; an unapproved edit could game them."
_VERB = {
    "changed": "was modified",
    "added": "is a new sealed file",
    "removed": "was deleted",
}


SEAL_BROKEN = Code(
    "PROT001",
    "error",
    FIX_TITLE,
    "A sealed file (one matching a glob in architecture/protected.toml: the evaluation, data "
    "preparation, benchmark code, the checker in harness/ and rules/, golden files, the "
    "contracts, the allowed signers or the manifest itself) or a sealed table (pyproject.toml "
    "[tool.harness]) differs from the hash in the trusted architecture/protected.lock.json, or "
    "was added or deleted. With --base the trusted lock is the base's unless a maintainer "
    "approved the change's own. Agents must not edit what defines the metric or the checks. "
    "Revert the change; if it is intended, a maintainer runs `harness protect approve --reason "
    "TEXT` and commits the lock with their SSH signature (see architecture/trust.md).",
    WHY,
)
NO_MANIFEST = Code(
    "PROT002",
    "error",
    "Restore the manifest and lock from git, or ask a maintainer to run "
    "`harness protect approve --reason ...`",
    "The protected-file manifest (architecture/protected.toml) or its lock "
    "(architecture/protected.lock.json) is missing or malformed, so sealed files cannot be "
    "verified. Restore them from git, or have a maintainer create the lock with `harness protect "
    "approve --reason TEXT`.",
    WHY,
)
APPROVED = Code(
    "PROT003",
    "warning",
    "Check that the recorded reason covers every approved path",
    "With --base, the approvals log in architecture/protected.lock.json gained entries since the "
    "base ref and the approval counts: the lock was committed with a maintainer's SSH signature "
    "(a key in the base's architecture/allowed_signers) or the hosted workflow passed "
    "--maintainer-approval. A warning, so a reviewer checks that the recorded reason covers "
    "every path.",
    WHY,
)
SELF_APPROVED = Code(
    "PROT004",
    "error",
    "Ask a maintainer to approve: they commit the re-sealed lock with their SSH signature, or "
    "the hosted workflow passes --maintainer-approval",
    "With --base, architecture/protected.lock.json differs from the base's but no maintainer "
    "approved it: `harness protect approve` was run inside the change, the lock was edited by "
    "hand, or the commit holding it is unsigned or signed by a key the base does not allow. An "
    "approval the change writes itself never counts, so the change is judged by the base's lock. "
    "A maintainer approves by committing the re-sealed lock with their SSH signature (`git "
    "commit -S`, gpg.format=ssh), or through the hosted workflow's maintainer label "
    "(architecture/trust.md).",
    WHY,
)


def run(ctx: GateContext) -> GateOutput:
    policy: Policy = ctx.policy
    try:
        drifted = protect.drift(ctx.root, policy.manifest(), policy.lock())
    except (protect.ManifestError, OSError) as err:
        path = (getattr(err, "path", None) or protect.LOCK).split(" at ")[0]
        return GateOutput([NO_MANIFEST.finding(path, str(err))])
    since = f"the approval in {protect.LOCK}" + (
        f" at {policy.base}" if policy.is_from_base else ""
    )
    findings = [_drift_finding(ctx.root, d, since, policy) for d in drifted]
    metrics: dict[str, object] = {"drifted": len(findings), "policy": policy.source}
    if policy.base is not None:
        lock_findings = _lock_findings(ctx.root, policy)
        metrics["approvals_since_base"] = len(lock_findings)
        findings.extend(lock_findings)
    return GateOutput(findings, metrics)


def _drift_finding(root: Path, drift: protect.Drift, since: str, policy: Policy) -> Finding:
    if drift.table:
        line = _line_of(root / drift.file, f"[{drift.table}]")
        keys = _changed_keys(root, policy, drift)
        what = f"the [{drift.table}] table of {drift.file} " + (
            "was added"
            if drift.kind == "added"
            else "was removed"
            if drift.kind == "removed"
            else "changed"
        )
        if keys:
            what += f" ({', '.join(keys)})"
    else:
        line, what = 1, f"sealed file {drift.path} {_VERB[drift.kind]}"
    return SEAL_BROKEN.finding(drift.file, f"{what} since {since}; needs maintainer approval", line)


def _changed_keys(root: Path, policy: Policy, drift: protect.Drift) -> list[str]:
    """Top-level keys of a sealed table that differ from the base's (empty without a base)."""
    if drift.file not in policy.base_texts:
        return []
    try:
        text = (root / drift.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    old = protect.toml_table(policy.base_texts[drift.file], drift.table) or {}
    new = protect.toml_table(text, drift.table) or {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _line_of(path: Path, text: str) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((i for i, line in enumerate(lines, 1) if line.strip() == text), 1)


def _lock_findings(root: Path, policy: Policy) -> list[Finding]:
    """PROT003 for each approval since the base that counts, PROT004 for one that does not."""
    try:
        text = (root / protect.LOCK).read_text(encoding="utf-8")
        lock = protect.parse_lock(text)
    except (OSError, UnicodeDecodeError, protect.ManifestError):
        text, lock = None, None
    if text == policy.base_texts.get(protect.LOCK):
        return []
    fresh = protect.new_approvals(lock, policy.base_lock()) if lock is not None else []
    lines = (text or "").splitlines()
    findings = []
    for approval in fresh or [{}]:
        stamp = f'"when": {json.dumps(approval.get("when", ""))}'
        line = next((i for i, t in enumerate(lines, 1) if approval and stamp in t), 1)
        files = approval.get("files", [])
        recorded = (
            f"{approval.get('who', '?')} re-approved {len(files)} path(s): {approval.get('why', '')!r}"
            if approval
            else "the lock was rewritten without a new approval entry"
        )
        if policy.approval is not None:
            message = f"{recorded}; counted: {policy.approval.how}"
            findings.append(APPROVED.finding(protect.LOCK, message, line))
        else:
            message = (
                f"{recorded} inside the change under check, which does not count "
                f"({policy.refusal or 'no maintainer approval'}); sealed files are judged by the "
                f"lock at {policy.base}"
            )
            findings.append(SELF_APPROVED.finding(protect.LOCK, message, line))
    return findings


GATE = Gate(
    description="sealed files and tables match the hashes a maintainer approved",
    run=run,
    codes=(SEAL_BROKEN, NO_MANIFEST, APPROVED, SELF_APPROVED),
)
