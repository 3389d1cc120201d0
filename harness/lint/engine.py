"""Lint one source text: parse once, run every applicable rule in one batched traversal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper

from harness.findings import Finding, fingerprint
from harness.lint.rule import Rule, RuleContext

PARSE_ERROR = "HC001"


def lint_source(
    path: str,
    source: str,
    rules: Iterable[type[Rule]],
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Finding]:
    """Findings of ``rules`` on ``source`` as if it lived at repo-relative ``path``."""
    options = options or {}
    applicable = [r for r in rules if r.applies_to(path) and r.passes_prefilter(source)]
    if not applicable:
        return []
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as err:
        return [
            Finding(
                rule=PARSE_ERROR,
                severity="error",
                path=path,
                line=err.raw_line,
                col=err.raw_column + 1,
                message=f"cannot parse: {err.message}",
                fix_title="Fix the syntax error so the file parses",
            )
        ]
    context_for = lambda r: RuleContext(path, source, dict(options.get(r.code, {})))  # noqa: E731
    visitors = [r(context_for(r)) for r in applicable]
    MetadataWrapper(module, unsafe_skip_copy=True).visit_batched(visitors)
    lines = source.splitlines()
    findings = []
    for visitor in visitors:
        for raw in visitor.reports:
            line_text = lines[raw.line - 1] if 0 < raw.line <= len(lines) else ""
            findings.append(
                Finding(
                    rule=visitor.code,
                    severity=visitor.severity,
                    path=path,
                    line=raw.line,
                    col=raw.col,
                    end_line=raw.end_line,
                    end_col=raw.end_col,
                    message=raw.message,
                    fix_title=visitor.fix_title,
                    why=visitor.docs().get("Why is this bad?", "").split("\n\n")[0],
                    doc=f"harness explain {visitor.code}",
                    fix=raw.fix,
                    fingerprint=fingerprint(visitor.code, path, line_text),
                )
            )
    return sorted(findings, key=Finding.sort_key)
