"""The gates' own parsers take any input without raising (property-based, hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.gates.doc_mentions import mentions
from harness.gates.format import first_changed_lines
from harness.gates.smoke_train import parse_losses
from harness.gates.test_collection import addopts_narrowing, conftest_narrowing
from harness.gates.test_facts import file_facts

PYTHONISH = st.text(
    alphabet=st.sampled_from(
        list("def test_ass(ert):\n\t @pytest.mark.skip[]=1e-3,rtol approx \"'#`")
    ),
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(PYTHONISH)
def test_test_facts_never_raise_on_any_source(source: str) -> None:
    facts = file_facts(source)
    assert facts is None or all(case.asserts >= 0 for case in facts.tests.values())


@settings(max_examples=150, deadline=None)
@given(PYTHONISH)
def test_collection_readers_never_raise(source: str) -> None:
    conftest = conftest_narrowing(source)
    addopts = addopts_narrowing(source)
    assert conftest is None or all(v >= 0 for v in conftest.counts.values())
    assert addopts is None or all(v >= 0 for v in addopts.counts.values())


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_doc_mentions_are_positioned_inside_the_text(markdown: str) -> None:
    lines = markdown.splitlines()
    for mention in mentions(markdown):
        assert 1 <= mention.line <= len(lines)
        assert 1 <= mention.col <= len(lines[mention.line - 1]) + 1


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_diff_and_log_parsers_never_raise(text: str) -> None:
    assert all(line >= 1 for line in first_changed_lines(text).values())
    assert isinstance(parse_losses(text), list)
