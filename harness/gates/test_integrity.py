"""The test-integrity gate: tests must not get weaker between ``--base`` and the working tree.

For every test file changed or deleted since the base ref it compares, test by test: deleted
tests (TI001), fewer assertions (TI002), new skip/xfail marks or ``pytest.skip()`` calls (TI003)
and loosened tolerances in ``assert_close``/``allclose``/``isclose``/``approx``/
``assertAlmostEqual`` (TI004). A test moved to another changed test file is not "deleted".
"""

from __future__ import annotations

import fnmatch
import time
from pathlib import Path

from harness import git
from harness.errors import HarnessError
from harness.findings import SEVERITY_RANK, Finding, GateResult, Severity
from harness.gates import Gate, GateContext
from harness.gates.test_collection import (
    added_narrowing,
    addopts_narrowing,
    conftest_narrowing,
)
from harness.gates.test_facts import CaseFacts, FileFacts, file_facts, loosened
from harness.gates.tool_run import (
    OPTION_CODE,
    OPTION_DOC,
    option_findings,
    problem_finding,
    with_fingerprints,
)

TEST_PATTERNS = ("tests/*test_*.py", "tests/*_test.py")
WHY = "A weaker test lets a regression through while the suite stays green."


def _is_test_file(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def _finding(
    code: str, severity: Severity, path: str, line: int, message: str, fix_title: str, col: int = 1
) -> Finding:
    return Finding(
        rule=code,
        severity=severity,
        path=path,
        line=max(line, 1),
        col=col,
        message=message,
        fix_title=fix_title,
        why=WHY,
        doc=f"harness explain {code}",
    )


def compare_file(
    path: str,
    base: FileFacts,
    new: FileFacts | None,
    moved: dict[str, tuple[str, CaseFacts]],
    severity: Severity,
) -> list[Finding]:
    """Findings for one test file: ``new`` is None when the file was deleted."""
    findings = []
    if new is not None and new.module_skips > base.module_skips:
        findings.append(
            _finding(
                "TI003",
                severity,
                path,
                new.module_skip_line,
                f"{path} now skips or xfails the whole module",
                "Remove the module-level skip/xfail, or fix what made the tests fail",
            )
        )
    for name, old in sorted(base.tests.items()):
        shown, current = path, new.tests.get(name) if new is not None else None
        if current is None and name in moved:
            shown, current = moved[name]
        if current is None:
            findings.append(
                _finding(
                    "TI001",
                    severity,
                    path,
                    old.line if new is None else 1,
                    f"test {name} (line {old.line} at base) was deleted",
                    "Restore the test, or move it to another test file under the same name",
                )
            )
            continue
        if current.cases < old.cases:
            findings.append(
                _finding(
                    "TI001",
                    severity,
                    shown,
                    current.line,
                    f"test {name} runs {current.cases} parametrized case(s), {old.cases} at base",
                    "Restore the removed parameter cases",
                )
            )
        if current.asserts < old.asserts:
            findings.append(
                _finding(
                    "TI002",
                    severity,
                    shown,
                    current.line,
                    f"test {name} has {current.asserts} assertion(s), {old.asserts} at base",
                    "Restore the removed assertions (or assert the new behaviour as precisely)",
                )
            )
        if current.skips > old.skips:
            findings.append(
                _finding(
                    "TI003",
                    severity,
                    shown,
                    current.line,
                    f"test {name} gained a skip/xfail ({old.skips} at base, {current.skips} now)",
                    "Remove the skip/xfail and make the test pass",
                )
            )
        for tol, old_value in loosened(old, current):
            findings.append(
                _finding(
                    "TI004",
                    severity,
                    shown,
                    tol.line,
                    f"{tol.function}({tol.keyword}={tol.value:g}) in {name} is looser than {old_value:g} at base",
                    f"Restore {tol.keyword}={old_value:g}, or justify the new tolerance in a comment and review",
                    tol.col,
                )
            )
    return findings


def collection_findings(
    root: Path, base: str, changed: list[str], severity: Severity
) -> list[Finding]:
    """TI003 for collection narrowed since ``base`` in a changed conftest.py or pyproject.toml."""
    findings = []
    for path in changed:
        if path.rsplit("/", 1)[-1] == "conftest.py":
            read = conftest_narrowing
        elif path == "pyproject.toml":
            read = addopts_narrowing
        else:
            continue
        old_text, new_text = git.file_at(root, base, path), _read(root, path)
        before = read(old_text) if old_text is not None else None
        after = read(new_text) if new_text is not None else None
        for name, line, more in added_narrowing(before, after):
            findings.append(
                _finding(
                    "TI003",
                    severity,
                    path,
                    line,
                    f"{path} narrows test collection: {more} more `{name}` than at base",
                    f"Remove the new `{name}`; fix or mark the tests it hides instead",
                )
            )
    return findings


def _read(root: Path, path: str) -> str | None:
    try:
        return (root / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


OPTIONS: dict[str, type | tuple[type, ...]] = {"patterns": list, "severity": str}


def run(ctx: GateContext) -> GateResult:
    start = time.perf_counter()
    bad_options = option_findings(ctx.root, "test-integrity", ctx.options, OPTIONS)
    if bad_options:
        return GateResult("test-integrity", ok=False, findings=bad_options)
    if not ctx.base:
        return GateResult(
            "test-integrity",
            ok=True,
            skipped="no base ref: pass --base REF (or --changed) to compare tests",
        )
    patterns = tuple(ctx.options.get("patterns", TEST_PATTERNS))
    severity: Severity = ctx.options.get("severity", "error")
    if severity not in SEVERITY_RANK:
        severity = "error"
    try:
        all_changed = git.changed_files(ctx.root, ctx.base)
        changed = [p for p in all_changed if _is_test_file(p, patterns)]
        deleted = [p for p in git.deleted_files(ctx.root, ctx.base) if _is_test_file(p, patterns)]
        base_text = {p: git.file_at(ctx.root, ctx.base, p) for p in changed + deleted}
        narrowing = collection_findings(ctx.root, ctx.base, all_changed, severity)
    except HarnessError as err:
        finding = problem_finding(
            "TI005",
            ".",
            f"cannot compare tests against {ctx.base!r}: {err}",
            "Pass an existing git ref with --base (e.g. origin/main)",
        )
        return GateResult(
            "test-integrity", ok=False, duration_s=time.perf_counter() - start, findings=[finding]
        )
    new_facts = {p: file_facts(text) for p in changed if (text := _read(ctx.root, p)) is not None}
    moved = {
        name: (path, facts)
        for path, ff in new_facts.items()
        if ff
        for name, facts in ff.tests.items()
    }
    findings: list[Finding] = list(narrowing)
    compared = 0
    for path in sorted(changed + deleted):
        old_text = base_text.get(path)
        base_facts = file_facts(old_text) if old_text is not None else None
        if base_facts is None:
            continue  # new file, or unparsable at base: nothing to weaken
        new = new_facts.get(path) if path in changed else None
        if path in changed and new is None:
            continue  # unparsable now: the ruff and rules gates report the syntax error
        others = {n: m for n, m in moved.items() if m[0] != path}
        findings.extend(compare_file(path, base_facts, new, others, severity))
        compared += 1
    return GateResult(
        "test-integrity",
        ok=not any(f.severity == "error" for f in findings),
        duration_s=time.perf_counter() - start,
        findings=with_fingerprints(ctx.root, findings),
        metrics={"test_files_compared": compared, "weakened": len(findings)},
    )


GATE = Gate(
    id="test-integrity",
    tier="full",
    description="tests did not get weaker since --base: no deletions, fewer asserts, new skips or looser tolerances",
    run=run,
    codes={
        OPTION_CODE: OPTION_DOC,
        "TI001": "A test function that exists at the base ref is gone from the working tree (its "
        "file was deleted, or the function was removed or renamed), or a parametrized test lost "
        "cases from a literal parametrize list. Deleting a failing test is the cheapest way to "
        "make a suite pass; restore it or move it under the same name.",
        "TI002": "A test kept since the base ref has fewer assertions (assert statements, "
        "assert* calls, pytest.raises/warns) than before. Restore the checks or replace them "
        "with equally precise ones.",
        "TI003": "A test (or the whole module) gained a skip or xfail: a pytest.mark.skip/"
        "skipif/xfail decorator, unittest skip decorator, pytestmark, or a pytest.skip()/"
        "pytest.xfail()/importorskip()/skipTest() call; or collection was narrowed: a "
        "conftest.py gained collect_ignore entries or a collection hook, or pytest addopts gained "
        "--ignore/--deselect/-k/-m. Make the tests pass instead.",
        "TI004": "A tolerance in assert_close/allclose/isclose/approx/assertAlmostEqual got "
        "looser than at the base ref (larger rtol/atol/rel/abs/delta, fewer places/decimal), or "
        "a loose one was added where the default applied. Restore it, or justify the change.",
        "TI005": "The base ref could not be compared: it does not exist or the directory is not "
        "a git repository. Pass an existing ref with --base.",
    },
)
