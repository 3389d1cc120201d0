"""The golden runner: every file under golden/ produces exactly the findings annotated in it.

Conventions (golden/README.md): a first-line ``# harness-golden: path=...`` comment sets the
path the file pretends to live at; ``# expect: CODE[, CODE...]`` at the end of a line lists the
findings that must start on that line (a code listed twice must fire twice). Strict mode: every
finding of any code that fires in a golden file must be annotated, so golden files stay clean
examples. ``good_*.py`` must additionally produce no finding of their directory's code, and the
reference modules in golden/reference/ must lint clean under every rule.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from harness.lint.engine import lint_source
from harness.lint.fixes import apply_fixes
from rules import all_rules

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
DEFAULT_PATH = "nanochat/example.py"
_PATH = re.compile(r"#\s*harness-golden:\s*path=(\S+)")
_EXPECT = re.compile(r"#\s*expect:\s*((?:NC\d{3})(?:\s*,\s*NC\d{3})*)\s*$")
GOLDEN_FILES = sorted(GOLDEN.glob("*/*.py"))


def pretend_path(source: str) -> str:
    first = source.splitlines()[0] if source else ""
    match = _PATH.match(first)
    return match.group(1) if match else DEFAULT_PATH


def expected_findings(source: str) -> Counter:
    expected: Counter = Counter()
    for number, line in enumerate(source.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            for code in match.group(1).split(","):
                expected[(number, code.strip())] += 1
    return expected


def lint(path: str, source: str):
    return lint_source(path, source, all_rules())


def _id(path: Path) -> str:
    return path.relative_to(GOLDEN).as_posix()


@pytest.mark.parametrize("golden_file", GOLDEN_FILES, ids=_id)
def test_golden_file_produces_exactly_its_annotated_findings(golden_file: Path) -> None:
    source = golden_file.read_text(encoding="utf-8")
    findings = lint(pretend_path(source), source)
    actual = Counter((f.line, f.rule) for f in findings)
    messages = "\n".join(f"  {f.line}:{f.col} {f.rule} {f.message}" for f in findings)
    assert actual == expected_findings(source), f"{_id(golden_file)} findings:\n{messages}"


@pytest.mark.parametrize(
    "golden_file", [p for p in GOLDEN_FILES if p.name.startswith("good_")], ids=_id
)
def test_good_file_has_no_finding_of_its_own_code(golden_file: Path) -> None:
    source = golden_file.read_text(encoding="utf-8")
    code = golden_file.parent.name
    assert [f for f in lint(pretend_path(source), source) if f.rule == code] == []
    assert not any(code == c for _, c in expected_findings(source))


@pytest.mark.parametrize(
    "golden_file", [p for p in GOLDEN_FILES if p.name.startswith("bad_")], ids=_id
)
def test_bad_file_shows_its_own_code(golden_file: Path) -> None:
    source = golden_file.read_text(encoding="utf-8")
    assert any(code == golden_file.parent.name for _, code in expected_findings(source))


def _fixable_bad_files() -> list[Path]:
    files = []
    for path in GOLDEN_FILES:
        source = path.read_text(encoding="utf-8")
        if path.name.startswith("bad_") and any(f.fix for f in lint(pretend_path(source), source)):
            files.append(path)
    return files


@pytest.mark.parametrize("golden_file", _fixable_bad_files(), ids=_id)
def test_fixes_parse_resolve_their_findings_and_are_idempotent(golden_file: Path) -> None:
    source = golden_file.read_text(encoding="utf-8")
    path = pretend_path(source)
    findings = lint(path, source)
    fixed_codes = {f.rule for f in findings if f.fix}
    fixed, applied = apply_fixes(source, [f.fix for f in findings if f.fix])
    assert applied > 0
    ast.parse(fixed)
    relinted = lint(path, fixed)
    assert [f for f in relinted if f.rule in fixed_codes and f.fix] == []
    assert fixed != source
    again, applied_again = apply_fixes(fixed, [f.fix for f in relinted if f.fix])
    assert (again, applied_again) == (fixed, 0)


def test_every_rule_has_bad_and_good_golden_files() -> None:
    missing = [
        f"{rule.code}/{kind}_*.py"
        for rule in all_rules()
        for kind in ("bad", "good")
        if not list((GOLDEN / rule.code).glob(f"{kind}_*.py"))
    ]
    assert missing == []


def test_every_golden_directory_names_a_rule() -> None:
    codes = {rule.code for rule in all_rules()}
    directories = {p.name for p in GOLDEN.iterdir() if p.is_dir() and p.name != "reference"}
    assert directories - codes == set()


def test_reference_modules_lint_clean_under_every_rule() -> None:
    references = sorted((GOLDEN / "reference").glob("*.py"))
    assert len(references) >= 3
    for reference in references:
        source = reference.read_text(encoding="utf-8")
        findings = lint(pretend_path(source), source)
        assert findings == [], (
            f"{reference.name}: {[(f.line, f.rule, f.message) for f in findings]}"
        )
