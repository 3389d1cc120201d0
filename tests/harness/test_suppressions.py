"""Suppression comments: placement, reasons, unused and unknown codes."""

from __future__ import annotations

from harness.lint.engine import lint_source
from harness.lint.fixes import fix_loop
from harness.lint.suppressions import parse_suppressions
from rules.mutable_default_argument import MutableDefaultArgument

RULES = [MutableDefaultArgument]
KNOWN = {"NC205", "NC101"}


def codes(source: str) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in lint_source("m.py", source, RULES, known_codes=KNOWN)]


def test_trailing_suppression_with_reason_hides_the_finding():
    assert codes("def f(a=[]):  # harness: ignore[NC205] shared cache on purpose\n    pass\n") == []


def test_suppression_on_its_own_line_applies_to_the_next_code_line():
    source = "# harness: ignore[NC205] memo shared across calls\n\ndef f(a=[]):\n    pass\n"
    assert codes(source) == []


def test_missing_reason_is_reported_as_hc002():
    assert codes("def f(a=[]):  # harness: ignore[NC205]\n    pass\n") == [("HC002", 1)]


def test_unused_suppression_is_reported_as_hc003_with_a_removal_fix():
    source = "def f(a=None):  # harness: ignore[NC205] was mutable\n    pass\n"
    (finding,) = lint_source("m.py", source, RULES, known_codes=KNOWN)
    assert (finding.rule, finding.severity, finding.line) == ("HC003", "warning", 1)
    assert finding.message == "unused suppression of NC205: no NC205 finding on line 1"
    fixed = fix_loop(source, lambda s: lint_source("m.py", s, RULES, known_codes=KNOWN))
    assert fixed.source == "def f(a=None):\n    pass\n" and fixed.findings == []


def test_suppression_of_a_rule_that_did_not_run_is_not_called_unused():
    assert codes("x = 1  # harness: ignore[NC101] loop is cold\n") == []


def test_unknown_code_in_a_suppression_is_reported_as_hc006():
    assert codes("x = 1  # harness: ignore[NC999] typo\n") == [("HC006", 1)]


def test_suppression_text_inside_a_string_is_not_a_suppression():
    source = 's = "# harness: ignore[NC205] not a comment"\ndef f(a=[]):\n    pass\n'
    assert parse_suppressions(source) == []
    assert codes(source) == [("NC205", 2)]


def test_one_comment_can_suppress_several_codes():
    (s,) = parse_suppressions("x = 1  # harness: ignore[nc205, NC101] both fine here\n")
    assert s.codes == ("NC205", "NC101") and s.reason == "both fine here"


def test_suppressing_a_test_integrity_code_points_to_the_maintainer_acknowledgement():
    (finding,) = lint_source(
        "m.py", "x = 1  # harness: ignore[TI004] reviewed tolerance\n", RULES, known_codes=KNOWN
    )
    assert finding.rule == "HC006"
    assert "cannot be suppressed inline" in finding.message
    assert "harness protect approve --acknowledge PATH" in finding.fix_title
