"""The rule catalogue as a whole: codes, docs, messages, metadata and the generated reference."""

from __future__ import annotations

import re
import string
from pathlib import Path

from harness.catalog.reference import REFERENCE_PATH, render_rules_reference
from harness.lint.rule import DOC_SECTIONS
from rules import all_rules

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")
FAMILIES = {"1", "2", "3", "4", "5"}


def test_catalogue_has_at_least_twenty_rules_with_family_codes() -> None:
    rules = all_rules()
    assert len(rules) >= 20
    assert all(re.fullmatch(r"NC[1-5]\d\d", r.code) and r.code[2] in FAMILIES for r in rules)


def test_every_rule_documents_the_required_sections() -> None:
    missing = {r.code: [s for s in REQUIRED if not r.docs().get(s)] for r in all_rules()}
    assert {code: absent for code, absent in missing.items() if absent} == {}


def test_rules_with_options_document_them() -> None:
    undocumented = [r.code for r in all_rules() if r.options and "Options" not in r.docs()]
    assert undocumented == []
    assert "Options" in DOC_SECTIONS


def test_every_message_template_formats_with_its_fields() -> None:
    for rule in all_rules():
        fields = {name for _, name, _, _ in string.Formatter().parse(rule.message) if name}
        text = rule.message.format(**{name: "x" for name in fields})
        assert "{" not in text and fields, rule.code


def test_every_rule_has_an_imperative_fix_title_and_a_kebab_name() -> None:
    for rule in all_rules():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name), rule.code
        first_word = rule.fix_title.split()[0]
        assert first_word[0].isupper() and not first_word.endswith(("ing", "ed")), rule.code


def test_every_rule_has_a_prefilter_or_needs_every_file() -> None:
    whole_file_rules = {"NC505", "NC506"}
    assert [r.code for r in all_rules() if not r.prefilter and r.code not in whole_file_rules] == []


def test_committed_rules_reference_matches_the_renderer() -> None:
    assert (ROOT / REFERENCE_PATH).read_text(encoding="utf-8") == render_rules_reference()


def test_reference_has_a_section_and_an_options_table_for_every_rule() -> None:
    text = render_rules_reference()
    for rule in all_rules():
        assert f"### {rule.code}\n" in text
        assert f"[{rule.code}](#{rule.code.lower()})" in text
        for name in rule.options:
            assert f"| `{name}` |" in text, f"{rule.code}.{name}"


def test_each_public_rule_module_defines_exactly_one_rule() -> None:
    modules = sorted(p.stem for p in (ROOT / "rules").glob("*.py") if not p.stem.startswith("_"))
    assert sorted(r.__module__.removeprefix("rules.") for r in all_rules()) == modules
