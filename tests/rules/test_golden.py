"""The golden runner: every file under golden/ produces exactly the findings annotated in it.

Conventions (golden/README.md): a first-line ``# harness-golden: path=...`` comment sets the
path the file pretends to live at; ``# expect: CODE[, CODE...]`` at the end of a line lists the
findings that must start on that line (a code listed twice must fire twice). Strict mode: every
finding of any code that fires in a golden file must be annotated, so golden files stay clean
examples. ``good_*.py`` must additionally produce no finding of their directory's code, and the
reference modules in golden/reference/ must lint clean under every rule.

Snapshots (as in ruff and Fixit) pin what annotations cannot: each ``bad_<case>.py`` has a
``bad_<case>.findings`` with every finding as ``line:col CODE message``, and, where the fixes
(safe and unsafe, through the same fix loop as ``harness check --fix --unsafe-fixes``) change
the file, a ``bad_<case>.py.fixed`` with the result. The suffixes keep them out of every
``*.py`` glob over golden/. ``make snapshots`` (``--update-snapshots``) rewrites them.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections import Counter
from pathlib import Path

import pytest

from harness.findings import Finding
from harness.lint.engine import lint_source
from harness.lint.fixes import apply_fixes, fix_loop
from rules import all_rules

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
DEFAULT_PATH = "nanochat/example.py"
_PATH = re.compile(r"#\s*harness-golden:\s*path=(\S+)")
_EXPECT = re.compile(r"#\s*expect:\s*((?:NC\d{3})(?:\s*,\s*NC\d{3})*)\s*$")
GOLDEN_FILES = sorted(GOLDEN.glob("*/*.py"))
BAD_FILES = [p for p in GOLDEN_FILES if p.name.startswith("bad_")]
SNAPSHOT_SUFFIXES = (".findings", ".py.fixed")
UPDATE_HINT = "run `make snapshots` to rewrite it, then review the diff"


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


def findings_snapshot(golden_file: Path) -> Path:
    return golden_file.with_suffix(".findings")


def fixed_snapshot(golden_file: Path) -> Path:
    return golden_file.with_name(golden_file.name + ".fixed")


def snapshot_files() -> set[Path]:
    return {p for suffix in SNAPSHOT_SUFFIXES for p in GOLDEN.glob(f"*/*{suffix}")}


def findings_text(findings: list[Finding]) -> str:
    rows = sorted(findings, key=lambda f: (f.line, f.col, f.rule, f.message))
    return "".join(f"{f.line}:{f.col} {f.rule} {f.message}\n" for f in rows)


def check_snapshot(snapshot: Path, actual: str | None, update: bool) -> None:
    """Compare ``actual`` with ``snapshot`` (None: it must not exist), rewriting it first on update."""
    if update and actual is None:
        snapshot.unlink(missing_ok=True)
    elif update:
        snapshot.write_text(actual, encoding="utf-8")
    name = _id(snapshot)
    if actual is None:
        assert not snapshot.exists(), (
            f"{name} is stale: the fixes no longer change the file; {UPDATE_HINT}"
        )
        return
    assert snapshot.is_file(), f"{name} is missing; {UPDATE_HINT}"
    expected = snapshot.read_text(encoding="utf-8")
    diff = difflib.unified_diff(
        expected.splitlines(keepends=True),
        actual.splitlines(keepends=True),
        f"{name} (snapshot)",
        f"{name} (engine)",
    )
    assert actual == expected, f"{name} differs from the engine; {UPDATE_HINT}\n{''.join(diff)}"


@pytest.mark.parametrize("golden_file", BAD_FILES, ids=_id)
def test_bad_file_findings_match_their_snapshot(golden_file: Path, update_snapshots: bool) -> None:
    source = golden_file.read_text(encoding="utf-8")
    actual = findings_text(lint(pretend_path(source), source))
    check_snapshot(findings_snapshot(golden_file), actual, update_snapshots)


@pytest.mark.parametrize("golden_file", BAD_FILES, ids=_id)
def test_bad_file_fixed_by_every_fix_matches_its_snapshot(
    golden_file: Path, update_snapshots: bool
) -> None:
    source = golden_file.read_text(encoding="utf-8")
    path = pretend_path(source)
    fixed = fix_loop(source, lambda text: lint(path, text), unsafe=True).source
    check_snapshot(
        fixed_snapshot(golden_file), fixed if fixed != source else None, update_snapshots
    )


def test_every_snapshot_belongs_to_a_bad_golden_file(update_snapshots: bool) -> None:
    owned = {snap(p) for p in BAD_FILES for snap in (findings_snapshot, fixed_snapshot)}
    if update_snapshots:
        for stale in snapshot_files() - owned:
            stale.unlink()
    stale = sorted(_id(p) for p in snapshot_files() - owned)
    assert stale == [], (
        f"snapshots without a bad golden file: {stale}; `make snapshots` deletes them"
    )
