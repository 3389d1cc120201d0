"""Lint one source text: parse once, run every applicable rule in one batched traversal.

The traversal is harness.lint.walk's read-only walker (libcst's own rebuilds every node).

Rules whose path globs or text prefilter rule them out are dropped before parsing, so a file
no rule wants is never parsed. Positions are resolved only for files where a rule reported.
Suppression comments are applied here because they live in the text being linted. A syntax
error (HC001) is found only in files some rule wanted to parse; the ruff gate sees every file.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper

from harness.findings import Finding, with_fingerprints
from harness.lint.codes import PARSE_ERROR
from harness.lint.rule import Rule, RuleContext
from harness.lint.suppressions import apply_suppressions
from harness.lint.walk import walk_batched


@dataclass
class LintOutcome:
    findings: list[Finding]
    parsed: bool  # False when no rule applied and the CST was never built


def lint_source(
    path: str,
    source: str,
    rules: Iterable[type[Rule]],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    known_codes: Collection[str] | None = None,
) -> list[Finding]:
    """Findings of ``rules`` on ``source`` as if it lived at repo-relative ``path``."""
    return lint_text(path, source, rules, options, known_codes=known_codes).findings


def lint_text(
    path: str,
    source: str,
    rules: Iterable[type[Rule]],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    known_codes: Collection[str] | None = None,
    root: str = "",
) -> LintOutcome:
    """Like lint_source, and says whether the file had to be parsed."""
    options = options or {}
    for_path = [r for r in rules if r.applies_to(path, options.get(r.code))]
    applicable = [r for r in for_path if r.passes_prefilter(source)]
    active_codes = {r.code for r in for_path}
    if not applicable:
        findings = apply_suppressions(path, source, [], active_codes, known_codes)
        return LintOutcome(_with_fingerprints(findings, source), parsed=False)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as err:
        return LintOutcome(
            [_parse_error(path, err.raw_line, err.raw_column + 1, err.message)], True
        )
    except (RecursionError, MemoryError, ValueError) as err:
        return LintOutcome([_parse_error(path, 1, 1, f"{type(err).__name__}: {err}")], True)
    visitors = [
        r(RuleContext(path, source, dict(options.get(r.code, {})), root)) for r in applicable
    ]
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    with ExitStack() as stack:
        for visitor in visitors:
            visitor.wrapper = wrapper
            stack.enter_context(visitor.resolve(wrapper))  # metadata the rule declared
        walk_batched(wrapper.module, visitors)
    findings = [_finding(path, visitor, raw) for visitor in visitors for raw in visitor.reports]
    findings = apply_suppressions(path, source, findings, active_codes, known_codes)
    return LintOutcome(_with_fingerprints(findings, source), parsed=True)


def _parse_error(path: str, line: int, col: int, message: str) -> Finding:
    first = message.strip().splitlines()[0] if message.strip() else "syntax error"
    return PARSE_ERROR.finding(path, f"cannot parse: {first}", line, col)


def _finding(path: str, visitor: Rule, raw: Any) -> Finding:
    line, col, end_line, end_col, fix = visitor.resolve_report(raw)
    return Finding(
        rule=visitor.code,
        severity=visitor.severity,
        path=path,
        line=line,
        col=col,
        end_line=end_line,
        end_col=end_col,
        message=raw.message,
        fix_title=visitor.fix_title,
        why=visitor.docs().get("Why is this bad?", "").split("\n\n")[0],
        doc=f"harness explain {visitor.code}",
        fix=fix,
    )


def _with_fingerprints(findings: list[Finding], source: str) -> list[Finding]:
    """Sorted findings with fingerprints; repeats of one rule on identical lines are numbered."""
    lines = source.splitlines()
    return with_fingerprints(findings, lambda path: lines)
