"""Fixes: safe vs unsafe, overlapping edits deferred to the next round, a bounded loop, --fix."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from harness.config import parse_settings
from harness.findings import Edit, Fix
from harness.lint.engine import lint_source
from harness.lint.fixes import apply_fixes, fix_loop
from harness.lint.rule import Rule
from harness.lint.runner import lint_paths


class EqualsNone(Rule):
    code = "XF001"
    name = "equals-none"
    message = "compare {name} to None with `is`"
    fix_title = "Use `is None`"
    fix_applicability = "always"
    prefilter = ("None",)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        (target,) = node.comparisons
        if isinstance(target.operator, cst.Equal) and isinstance(target.comparator, cst.Name):
            if target.comparator.value == "None":
                new = target.with_changes(operator=cst.Is())
                self.report(
                    node,
                    node.with_changes(comparisons=[new]),
                    name=cst.Module([]).code_for_node(node.left),
                )


class DoubleNegation(Rule):
    """Rewrites ``not not x`` to ``bool(x)``: unsafe when ``x`` defines ``__bool__`` oddly."""

    code = "XF002"
    name = "double-negation"
    message = "double negation"
    fix_title = "Call bool()"
    fix_applicability = "always"
    prefilter = ("not not",)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        inner = node.expression
        if isinstance(node.operator, cst.Not) and isinstance(inner, cst.UnaryOperation):
            if isinstance(inner.operator, cst.Not):
                call = cst.Call(cst.Name("bool"), [cst.Arg(inner.expression)])
                self.report(node, call, unsafe=True)


RULES = [EqualsNone, DoubleNegation]


def lint(source: str):
    return lint_source("m.py", source, RULES)


def test_safe_fix_is_applied_and_nothing_remains():
    outcome = fix_loop("if x == None:\n    pass\n", lint)
    assert outcome.source == "if x is None:\n    pass\n"
    assert outcome.findings == [] and outcome.applied == 1


def test_unsafe_fix_needs_the_unsafe_flag():
    source = "y = not not x\n"
    assert fix_loop(source, lint).source == source
    assert fix_loop(source, lint, unsafe=True).source == "y = bool(x)\n"


def test_nested_fixes_overlap_and_the_inner_one_waits_a_round():
    outcome = fix_loop("y = not not not not x\n", lint, unsafe=True)
    assert outcome.source == "y = bool(bool(x))\n"
    assert outcome.rounds == 2 and outcome.findings == []


def test_overlapping_edits_are_deferred_not_merged():
    first = Fix("a", (Edit(1, 1, 1, 4, "AAA"),))
    overlapping = Fix("b", (Edit(1, 2, 1, 6, "BBBB"),))
    separate = Fix("c", (Edit(1, 7, 1, 8, "C"),))
    text, applied = apply_fixes("0123456789\n", [overlapping, first, separate])
    assert (text, applied) == ("AAA345C789\n", 2)


def test_fix_loop_stops_after_max_rounds_when_fixes_never_converge():
    from harness.findings import Finding

    def always_fixable(source: str) -> list[Finding]:
        grow = Fix("grow", (Edit(1, 1, 1, 1, "#"),))
        return [Finding("XF009", "error", "m.py", 1, 1, "never settles", fix=grow)]

    outcome = fix_loop("x\n", always_fixable, max_rounds=3)
    assert outcome.rounds == 3 and outcome.source == "###x\n" and outcome.findings


def test_edits_use_code_point_columns_on_non_ascii_lines():
    source = 'if "é😀" == None:\n    pass\n'
    assert fix_loop(source, lint).source == 'if "é😀" is None:\n    pass\n'


def test_lint_paths_fix_rewrites_the_file_and_reports_what_remains(tmp_path: Path):
    target = tmp_path / "m.py"
    target.write_text("if a == None:\n    b = not not a\n", encoding="utf-8")
    run = lint_paths(tmp_path, parse_settings({}, tmp_path), rules=RULES, fix=True)
    assert target.read_text(encoding="utf-8") == "if a is None:\n    b = not not a\n"
    assert run.fixed == 1 and [f.rule for f in run.findings] == ["XF002"]
    again = lint_paths(tmp_path, parse_settings({}, tmp_path), rules=RULES)
    assert again.cached == 1 and [f.rule for f in again.findings] == ["XF002"]
