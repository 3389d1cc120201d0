"""The test-integrity gate: tests must not get weaker between ``--base`` and the working tree.

For every test file changed or deleted since the base ref it compares, test by test: deleted
tests (TI001), fewer assertions (TI002), new skip/xfail marks or ``pytest.skip()`` calls (TI003),
loosened tolerances in ``assert_close``/``allclose``/``isclose``/``approx``/
``assertAlmostEqual`` (TI004), comparisons weakened into truthiness, ``is not None`` or type
checks (TI006), always-true assertions (TI007), ``pytest.raises`` widened to ``Exception`` or
stripped of ``match=`` (TI008) and project functions the test no longer calls (TI009). A test
moved to another changed test file is not "deleted". A weakening a maintainer acknowledged
(``harness protect approve --acknowledge PATH`` in a lock the policy trusts) is reported as
info, not as an error.
"""

from __future__ import annotations

import ast
import fnmatch
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from harness import git, protect
from harness.codes import Code
from harness.errors import HarnessError
from harness.findings import SEVERITY_RANK, Finding, Severity
from harness.gates import Gate, GateContext, GateOutput
from harness.gates.test_collection import (
    INI_SECTIONS,
    added_narrowing,
    addopts_narrowing,
    conftest_narrowing,
    ini_narrowing,
)
from harness.gates.test_facts import CaseFacts, FileFacts, file_facts, loosened
from harness.policy import Policy

TEST_PATTERNS = ("tests/*test_*.py", "tests/*_test.py")
WHY = "A weaker test lets a regression through while the suite stays green."


def _is_test_file(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


CODES: dict[str, Code] = {
    code.code: code
    for code in (
        Code(
            "TI001",
            "error",
            "Restore the test, or move it to another test file under the same name",
            "A test function that exists at the base ref is gone from the working tree (its file was deleted, or the function was removed or renamed), or a parametrized test lost cases from a literal parametrize list. Deleting a failing test is the cheapest way to make a suite pass; restore it or move it under the same name.",
            WHY,
        ),
        Code(
            "TI002",
            "error",
            "Restore the removed assertions (or assert the new behaviour as precisely)",
            "A test kept since the base ref has fewer assertions (assert statements, assert* calls, pytest.raises/warns) than before. Restore the checks or replace them with equally precise ones.",
            WHY,
        ),
        Code(
            "TI003",
            "error",
            "Remove the skip, xfail or collection narrowing and make the tests pass",
            "A test (or the whole module) gained a skip or xfail: a pytest.mark.skip/skipif/xfail decorator, unittest skip decorator, pytestmark, or a pytest.skip()/pytest.xfail()/importorskip()/skipTest() call; or collection was narrowed: a conftest.py gained collect_ignore entries or a collection hook, or pytest addopts gained --ignore/--deselect/-k/-m. Make the tests pass instead.",
            WHY,
        ),
        Code(
            "TI004",
            "error",
            "Restore the tolerance, or have a maintainer acknowledge the new one",
            "A tolerance in assert_close/allclose/isclose/approx/assertAlmostEqual got looser than at the base ref (larger rtol/atol/rel/abs/delta, fewer places/decimal), or a loose one was added where the default applied. Restore it, or justify the change.",
            WHY,
        ),
        Code(
            "TI005",
            "error",
            "Pass an existing git ref with --base (e.g. origin/main)",
            "The base ref could not be compared: it does not exist or the directory is not a git repository. Pass an existing ref with --base.",
            WHY,
        ),
        Code(
            "TI006",
            "error",
            "Compare with the expected value again (==, approx, assert_close)",
            "A test kept since the base ref compares with an expected value less often: an assertion such as `assert x == approx(0.55)` became a truthiness check (`assert x`), `is not None`, or a type check (`isinstance`, `type(x) is`). The count of assertions is unchanged, but what they prove is not. Compare with the expected value again. A deliberate change is acknowledged by a maintainer with `harness protect approve --acknowledge PATH` in a signed commit.",
            WHY,
        ),
        Code(
            "TI007",
            "error",
            "Assert the value the code under test must produce",
            "An assertion that is always true (`assert True`, `assert 1`, `assert x == x`, `assert (x, 'message')`, `self.assertTrue(True)`) was added to a test: it checks nothing, and it does not count as an assertion, so replacing a real assert with it is reported here rather than as TI002. Assert the value the code must produce.",
            WHY,
        ),
        Code(
            "TI008",
            "error",
            "Expect the specific exception (and message) the code under test raises",
            "A `pytest.raises`/`assertRaises` now accepts `Exception` or `BaseException` where the base expected a specific exception, or lost its `match=` pattern. Any error, a typo included, would pass the test. Expect the specific exception and message.",
            WHY,
        ),
        Code(
            "TI009",
            "error",
            "Call the code under test again from the test",
            "A test no longer calls a project function it called at the base ref, and that function still exists: the test may no longer exercise the code it is named for (it checks a stand-in or a constant). Call the code under test again; a deliberate refactor (the call moved into a fixture) is acknowledged by a maintainer with `harness protect approve --acknowledge PATH`.",
            WHY,
        ),
    )
}


def _finding(
    code: str, severity: Severity, path: str, line: int, message: str, fix_title: str, col: int = 1
) -> Finding:
    return CODES[code].finding(path, message, line, col, fix_title=fix_title, severity=severity)


def compare_file(
    path: str,
    base: FileFacts,
    new: FileFacts | None,
    moved: dict[str, tuple[str, CaseFacts]],
    severity: Severity,
    still_exists: Callable[[str], bool] = lambda name: True,
) -> list[Finding]:
    """Findings for one test file: ``new`` is None when the file was deleted.

    ``still_exists(qualified_name)`` says whether a project function is still defined, so a
    test that stopped calling a removed or renamed function is not reported (TI009).
    """
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
        findings.extend(weakened_assertions(shown, name, old, current, severity))
        findings.extend(widened_raises(shown, name, old, current, severity))
        for called in sorted(old.calls - current.calls):
            if still_exists(called):
                findings.append(
                    _finding(
                        "TI009",
                        severity,
                        shown,
                        current.line,
                        f"test {name} no longer calls {called}(), which it called at base",
                        f"Call {called}() again from the test, or assert on what replaced it",
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


def weakened_assertions(
    path: str, name: str, old: CaseFacts, new: CaseFacts, severity: Severity
) -> list[Finding]:
    """TI007 for new always-true asserts, TI002 for asserts gone, TI006 for exact ones made weak."""
    findings = []
    extra = len(new.graded("constant")) - len(old.graded("constant"))
    old_texts = {a.text for a in old.graded("constant")}
    unseen = [a for a in new.graded("constant") if a.text not in old_texts]
    added_constants = (unseen or new.graded("constant"))[: max(extra, 0)]
    for assertion in added_constants:
        findings.append(
            _finding(
                "TI007",
                severity,
                path,
                assertion.line,
                f"`{assertion.text}` in {name} is always true and checks nothing",
                "Assert the value the code under test must produce",
                assertion.col,
            )
        )
    removed = old.asserts - new.asserts
    if removed > len(added_constants):
        findings.append(
            _finding(
                "TI002",
                severity,
                path,
                new.line,
                f"test {name} has {new.asserts} assertion(s), {old.asserts} at base",
                "Restore the removed assertions (or assert the new behaviour as precisely)",
            )
        )
    made_weak = len(old.graded("exact")) - len(new.graded("exact")) - max(removed, 0)
    if made_weak > 0:
        old_weak = Counter(a.text for a in old.graded("weak"))
        sites = [a for a in new.graded("weak") if old_weak[a.text] == 0] or new.graded("weak")
        for assertion in sites[:made_weak] or []:
            findings.append(
                _finding(
                    "TI006",
                    severity,
                    path,
                    assertion.line,
                    f"`{assertion.text}` in {name} only checks truthiness, presence or type; "
                    f"{len(new.graded('exact'))} exact assertion(s), "
                    f"{len(old.graded('exact'))} at base",
                    "Compare with the expected value again (==, approx, assert_close), not only "
                    "that the result exists, is truthy or has a type",
                    assertion.col,
                )
            )
    return findings


def widened_raises(
    path: str, name: str, old: CaseFacts, new: CaseFacts, severity: Severity
) -> list[Finding]:
    """TI008 for a raises() that accepts any exception or lost its ``match=`` since the base."""
    findings = []
    for before, after in zip(old.raises, new.raises, strict=False):
        if after.is_broad and not before.is_broad:
            problem = f"accepts any exception; {', '.join(before.exceptions) or '?'} at base"
        elif before.has_match and not after.has_match:
            problem = "no longer checks the message (match= dropped)"
        else:
            continue
        findings.append(
            _finding(
                "TI008",
                severity,
                path,
                after.line,
                f"raises({', '.join(after.exceptions) or '?'}) in {name} {problem}",
                "Expect the specific exception (and message) the code under test raises",
                after.col,
            )
        )
    return findings


def new_test_findings(
    path: str, known: set[str], new: FileFacts, severity: Severity
) -> list[Finding]:
    """TI007 for always-true asserts in tests whose name no compared file had at the base."""
    empty = CaseFacts(name="", line=1)
    findings = []
    for name, facts in sorted(new.tests.items()):
        if name not in known:
            found = weakened_assertions(path, name, empty, facts, severity)
            findings.extend(f for f in found if f.rule == "TI007")
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
        elif path in INI_SECTIONS:
            read = partial(ini_narrowing, section=INI_SECTIONS[path])
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


def project_name_exists(root: Path, qualified: str) -> bool:
    """Whether ``pkg.module.name`` is a module of this repository or defined at its top level."""
    parts = qualified.split(".")
    for cut in range(len(parts), 0, -1):
        module = root.joinpath(*parts[:cut])
        source = (
            module.with_suffix(".py")
            if module.with_suffix(".py").is_file()
            else module / "__init__.py"
        )
        if not source.is_file():
            continue
        if cut == len(parts):
            return True
        return parts[cut] in _top_level_names(source)
    return False


def _top_level_names(source: Path) -> set[str]:
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    if (source.parent / "__init__.py") == source:
        names.update(p.stem for p in source.parent.glob("*.py"))
        names.update(p.name for p in source.parent.iterdir() if (p / "__init__.py").is_file())
    return names


def acknowledged(root: Path, findings: list[Finding], policy: Policy) -> list[Finding]:
    """Findings in test files a maintainer acknowledged (this exact content) become info."""
    try:
        lock = policy.lock()
    except protect.ManifestError:
        return findings
    accepted: dict[str, str] = lock.get("acknowledged", {})
    reasons = {p: a.get("why", "") for a in lock["approvals"] for p in a.get("files", [])}
    result = []
    for finding in findings:
        digest = accepted.get(finding.path)
        is_accepted = (
            digest is not None
            and (root / finding.path).is_file()
            and protect.sha256_of(root / finding.path) == digest
        )
        if is_accepted:
            note = f" (acknowledged: {reasons.get(finding.path, 'no reason recorded')!r})"
            finding = replace(finding, severity="info", message=finding.message + note)
        result.append(finding)
    return result


def run(ctx: GateContext) -> GateOutput:
    if not ctx.base:
        return GateOutput(skipped="no base ref: pass --base REF (or --changed) to compare tests")
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
        return GateOutput(
            [CODES["TI005"].finding(".", f"cannot compare tests against {ctx.base!r}: {err}")]
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
    still_exists = lambda name: project_name_exists(ctx.root, name)  # noqa: E731
    base_facts_of = {p: file_facts(t) for p, t in base_text.items() if t is not None}
    known = {name for ff in base_facts_of.values() if ff for name in ff.tests}
    for path in sorted(changed + deleted):
        base_facts = base_facts_of.get(path)
        new = new_facts.get(path) if path in changed else None
        if new is not None:
            findings.extend(new_test_findings(path, known, new, severity))
        if base_facts is None:
            continue  # new file, or unparsable at base: nothing to weaken
        if path in changed and new is None:
            continue  # unparsable now: the ruff and rules gates report the syntax error
        others = {n: m for n, m in moved.items() if m[0] != path}
        findings.extend(compare_file(path, base_facts, new, others, severity, still_exists))
        compared += 1
    findings = acknowledged(ctx.root, findings, ctx.policy)
    return GateOutput(findings, {"test_files_compared": compared, "weakened": len(findings)})


GATE = Gate(
    description="tests did not get weaker since --base: no deletions, weaker or fewer asserts, "
    "new skips or looser tolerances",
    run=run,
    codes=tuple(CODES.values()),
    options=OPTIONS,
)
