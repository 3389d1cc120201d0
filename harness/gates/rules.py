"""The rules gate: our libcst rules (``rules/``) over the changed files or the whole repository.

Uses the cached, batched engine in harness.lint, hides baselined findings (reporting stale
entries) and, with ``--base``, fails when the baseline gained entries. Options in
``[tool.harness.gates.rules]``: ``cache`` (bool, default true).
"""

from __future__ import annotations

from harness.gates import Gate, GateContext, GateOutput
from harness.lint.baseline import apply_baseline, baseline_growth, load_baseline, parse_baseline
from harness.lint.codes import ENGINE_CODES
from harness.lint.runner import lint_paths

OPTIONS = {"cache": bool}


def run(ctx: GateContext) -> GateOutput:
    settings = ctx.settings
    if ctx.changed_only and not ctx.paths:
        return GateOutput(metrics={"files": 0, "parsed": 0, "cached": 0})
    use_cache = ctx.options.get("cache", True)
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
    return GateOutput(findings, {**lint.metrics(), "baselined": hidden})


GATE = Gate(
    description="libcst lint rules from rules/ (cached, batched, with suppressions and a baseline)",
    run=run,
    codes=tuple(ENGINE_CODES.values()),
    options=OPTIONS,
)
