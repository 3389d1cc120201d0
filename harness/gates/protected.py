"""The protected gate: sealed files (evaluation, data preparation, benchmarks, rules, golden)
must match the hashes a human approved in ``architecture/protected.lock.json``.

An agent that edits the metric, the data or the checks has changed what "better" means; the gate
makes that visible and blocks it until a human re-approves with ``harness protect approve``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from harness import protect
from harness.errors import HarnessError
from harness.findings import Finding, GateResult
from harness.gates import Gate, GateContext
from harness.gates.tool_run import (
    OPTION_CODE,
    OPTION_DOC,
    option_findings,
    problem_finding,
    with_fingerprints,
)

FIX_TITLE = "Revert the change, or ask a human to run `harness protect approve --reason ...`"
WHY = "Sealed files define the metric and the checks; an unapproved edit could game them."
_VERB = {
    "changed": "was modified",
    "added": "is a new sealed file",
    "removed": "was deleted",
}


OPTIONS: dict[str, type | tuple[type, ...]] = {}


def run(ctx: GateContext) -> GateResult:
    start = time.perf_counter()
    bad_options = option_findings(ctx.root, "protected", ctx.options, OPTIONS)
    if bad_options:
        return GateResult("protected", ok=False, findings=bad_options)
    try:
        drifted = protect.drift(ctx.root)
    except (protect.ManifestError, OSError) as err:
        finding = problem_finding(
            "PROT002",
            getattr(err, "path", None) or protect.LOCK,
            str(err),
            "Restore the manifest and lock from git, or ask a human to run "
            "`harness protect approve --reason ...`",
            WHY,
        )
        return GateResult(
            "protected", ok=False, duration_s=time.perf_counter() - start, findings=[finding]
        )
    findings = [
        Finding(
            rule="PROT001",
            severity="error",
            path=d.path,
            line=1,
            col=1,
            message=f"sealed file {d.path} {_VERB[d.kind]} since the last approval in {protect.LOCK}",
            fix_title=FIX_TITLE,
            why=WHY,
            doc="harness explain PROT001",
        )
        for d in drifted
    ]
    metrics: dict[str, object] = {"drifted": len(findings)}
    if ctx.base:
        try:
            fresh = protect.approvals_since(ctx.root, ctx.base)
        except HarnessError as err:
            fresh, metrics["approvals_since_base"] = [], f"unknown ({err})"
        else:
            metrics["approvals_since_base"] = len(fresh)
        findings.extend(_approval_finding(ctx.root, a, ctx.base) for a in fresh)
    return GateResult(
        "protected",
        ok=not any(f.severity == "error" for f in findings),
        duration_s=time.perf_counter() - start,
        findings=with_fingerprints(ctx.root, findings),
        metrics=metrics,
    )


def _approval_finding(root: Path, approval: dict, base: str) -> Finding:
    """PROT003 at the approval's line in the lock, so a reviewer sees who re-sealed what."""
    lines = (root / protect.LOCK).read_text(encoding="utf-8").splitlines()
    stamp = f'"when": {json.dumps(approval.get("when", ""))}'
    line = next((i for i, text in enumerate(lines, 1) if stamp in text), 1)
    files = approval.get("files", [])
    return Finding(
        rule="PROT003",
        severity="warning",
        path=protect.LOCK,
        line=line,
        col=1,
        message=f"{approval.get('who', '?')} re-approved {len(files)} sealed file(s) since {base}: "
        f"{approval.get('why', '')!r}",
        fix_title="Check that a human made this approval and that the reason covers every file",
        why=WHY,
        doc="harness explain PROT003",
    )


GATE = Gate(
    id="protected",
    tier="fast",
    description="sealed files match the hashes a human approved",
    run=run,
    codes={
        OPTION_CODE: OPTION_DOC,
        "PROT001": "A sealed file (one matching a glob in architecture/protected.toml: the "
        "evaluation, data preparation, benchmark code, rules, golden files or the manifest itself) "
        "differs from the hash recorded in architecture/protected.lock.json, or was added or "
        "deleted. Agents must not edit what defines the metric or the checks. Revert the change; "
        "if it is intended, a human runs `harness protect approve --reason TEXT`, which records "
        "who approved what and why.",
        "PROT003": "With --base, the approvals log in architecture/protected.lock.json gained "
        "entries since the base ref: someone re-sealed changed files. A warning, so a reviewer "
        "checks that a human approved and that the recorded reason covers the files.",
        "PROT002": "The protected-file manifest (architecture/protected.toml) or its lock "
        "(architecture/protected.lock.json) is missing or malformed, so sealed files cannot be "
        "verified. Restore them from git, or have a human create the lock with "
        "`harness protect approve --reason TEXT`.",
    },
)
