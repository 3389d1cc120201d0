"""The rules gate: our libcst rules (``rules/``) over the changed files or the whole repository.

Uses the cached, batched engine in harness.lint, hides baselined findings (reporting stale
entries) and, with ``--base``, fails when the baseline gained entries. Options in
``[tool.harness.gates.rules]``: ``cache`` (bool, default true).
"""

from __future__ import annotations

import time

from harness.config import load_settings
from harness.errors import HarnessError
from harness.findings import SEVERITY_RANK, GateResult
from harness.gates import Gate, GateContext
from harness.lint.baseline import apply_baseline, baseline_growth, load_baseline, parse_baseline
from harness.lint.runner import lint_paths

_OPTIONS = {"cache"}

CODES = {
    "HC001": "The file does not parse as Python, so no rule could check it. Fix the syntax "
    "error at the reported position.",
    "HC002": "A `# harness: ignore[CODE]` suppression without a reason. Write after the "
    "bracket why the finding does not apply here, so a reviewer can judge it.",
    "HC003": "A suppression that suppresses nothing: the rule no longer fires on that line. "
    "Delete it (the fix does) so suppressions stay meaningful.",
    "HC004": "A baseline entry whose finding no longer occurs. Delete the entry: the "
    "baseline may only shrink.",
    "HC005": "A path that cannot be linted: unreadable, not UTF-8 (or its declared "
    "encoding), NUL bytes, over the size budget (max-file-mb), or a symlink leading out of the "
    "repository or round in a loop. Fix the file or add it to [tool.harness] exclude.",
    "HC006": "A suppression naming a code no rule has (a typo or a removed rule). Use a code "
    "from `harness rules` or delete the suppression.",
    "HC007": "The baseline gained entries against --base. New findings must be fixed, not "
    "added to the baseline.",
}


def run(ctx: GateContext) -> GateResult:
    started = time.perf_counter()
    settings = ctx.settings if ctx.settings is not None else load_settings(ctx.root)
    unknown = sorted(set(ctx.options) - _OPTIONS)
    if unknown:
        raise HarnessError(
            f"{settings.source}: [tool.harness.gates.rules] {unknown[0]}: unknown option; "
            f"options: {', '.join(sorted(_OPTIONS))}"
        )
    if ctx.changed_only and not ctx.paths:
        return GateResult(id="rules", ok=True, metrics={"files": 0, "parsed": 0, "cached": 0})
    use_cache = ctx.options.get("cache", True)
    if not isinstance(use_cache, bool):
        raise HarnessError(
            f"{settings.source}: [tool.harness.gates.rules] cache: expected true or false"
        )
    lint = lint_paths(
        ctx.root,
        settings,
        list(ctx.paths) if ctx.paths else None,
        fix=ctx.fix,
        unsafe_fixes=ctx.unsafe_fixes,
        use_cache=use_cache,
    )
    findings = lint.findings
    baseline_file = ctx.root / settings.baseline
    entries = load_baseline(baseline_file, settings.baseline)
    hidden = 0
    if entries:
        text = baseline_file.read_text(encoding="utf-8")
        checked = set(lint.paths) if ctx.paths else None
        outcome = apply_baseline(findings, entries, settings.baseline, text, checked)
        findings, hidden = outcome.findings, outcome.hidden
    if ctx.base is not None and entries:
        from harness.git import file_at

        previous = parse_baseline(
            file_at(ctx.root, ctx.base, settings.baseline) or "[]", settings.baseline
        )
        findings += baseline_growth(entries, previous, settings.baseline, text, ctx.base)
    floor = SEVERITY_RANK[settings.fail_severity]
    metrics = {
        **lint.metrics(),
        "baselined": hidden,
        "duration_s": round(time.perf_counter() - started, 4),
    }
    return GateResult(
        id="rules",
        ok=not any(SEVERITY_RANK[f.severity] >= floor for f in findings),
        duration_s=time.perf_counter() - started,
        findings=findings,
        metrics=metrics,
    )


GATE = Gate(
    id="rules",
    tier="fast",
    description="libcst lint rules from rules/ (cached, batched, with suppressions and a baseline)",
    run=run,
    codes=CODES,
)
