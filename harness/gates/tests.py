"""The tests gate: run pytest on the repository and turn its JUnit XML into findings.

Each failed or erroring test is a TEST001 finding at the failing line of the test file (or the
test's ``def`` line); a module that cannot be collected is TEST002. The child pytest gets
``HARNESS_IN_TESTS_GATE=1``: a ``harness check`` started from inside the suite, or from inside
a run of this gate on the same repository, skips the gate instead of running the suite again
(its tests may still run the gate on other, temporary projects).

Options (``[tool.harness.gates.tests]``): ``args`` (extra pytest arguments, e.g. ``["-n", "2"]``),
``paths`` (what to collect; default: pytest's own ``testpaths``), ``markers`` (a ``-m``
expression), ``timeout_s`` (default 900), ``select`` (default true: with ``--base`` or
``--changed``, run only the test files the change can reach through the import graph, see
``harness.gates.test_selection``; the metrics name them and why).
"""

from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.codes import Code
from harness.findings import Finding
from harness.gates import Gate, GateContext, GateOutput
from harness.gates.tool_run import code_under_check, python_tool, run_tool

GUARD_ENV = "HARNESS_IN_TESTS_GATE"
DEFAULT_TIMEOUT_S = 900.0
# pytest exit codes: 0 all passed, 1 some failed, 2 interrupted, 5 nothing collected.
_PYTEST_RAN = {0, 1, 2, 5}
FAILED = Code(
    "TEST001",
    "error",
    "Make the test pass: fix the code, or the test if the behaviour changed on purpose",
    "A test failed or errored. The finding points at the failing line in the test file (the last "
    "traceback line in that file) and names the pytest node id; rerun it with `python -m pytest "
    "NODE_ID` to see the full output.",
    "A failing test is a behaviour the code promised and no longer keeps.",
)
UNCOLLECTABLE = Code(
    "TEST002",
    "error",
    "Make the module importable (fix the import or syntax error it names)",
    "pytest could not collect a test module (an import or syntax error), so none of its tests "
    "ran. The finding names the error.",
    "A module that cannot be collected runs none of its tests.",
)
DID_NOT_RUN = Code(
    "TEST003",
    "error",
    "Run `python -m pytest` locally and fix what stops it (options, plugins, conftest)",
    "pytest did not run to the end (bad options, a broken plugin or conftest, a timeout) or "
    "collected no tests at all.",
)


def nested_run_reason(root: Path) -> str:
    """Why running the suite here would recurse (empty when it would not)."""
    guarded = os.environ.get(GUARD_ENV, "")
    if guarded and Path(guarded).resolve() == root.resolve():
        return f"already inside a tests-gate run of {guarded} ({GUARD_ENV})"
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    if current:
        test_file = (Path.cwd() / current.split("::")[0]).resolve()
        if test_file.is_relative_to(root.resolve()):
            return f"already inside this repository's pytest run ({current.split(' ')[0]})"
    return ""


def _failing_line(text: str, path: str) -> int | None:
    """The last ``path:LINE:`` in a failure's traceback text (the assertion that failed)."""
    hits = re.findall(rf"(?:^|[\s/]){re.escape(path)}:(\d+)", text, flags=re.MULTILINE)
    return int(hits[-1]) if hits else None


def _first_line(text: str) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def findings_from_junit(xml_text: str) -> tuple[list[Finding], dict[str, float]]:
    """Findings for failed, erroring and uncollectable tests, and pass/fail/skip counts."""
    suites = ET.fromstring(xml_text)
    counts = {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0, "duration_s": 0.0}
    for suite in suites.iter("testsuite"):
        counts["duration_s"] += float(suite.get("time") or 0.0)
    findings: list[Finding] = []
    for case in suites.iter("testcase"):
        path = case.get("file") or ""
        name, classname = case.get("name", ""), case.get("classname", "")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if case.find("skipped") is not None:
            counts["skipped"] += 1
            continue
        if problem is None:
            counts["tests"] += 1
            counts["passed"] += 1
            continue
        text = (problem.text or "") + "\n" + (problem.get("message") or "")
        if not classname and problem.get("message") == "collection failure":
            counts["errors"] += 1
            path = path or name.replace(".", "/") + ".py"
            findings.append(
                UNCOLLECTABLE.finding(
                    path,
                    f"pytest cannot collect {path}: {_last_error_line(text)}",
                    _failing_line(text, path) or 1,
                    fix_title=f"Make {path} importable (fix the import or syntax error it names)",
                )
            )
            continue
        counts["tests"] += 1
        counts["failed" if problem.tag == "failure" else "errors"] += 1
        module = path.removesuffix(".py").replace("/", ".")
        inner = classname[len(module) + 1 :] if classname.startswith(module + ".") else ""
        node_id = "::".join(filter(None, [path, inner.replace(".", "::"), name]))
        def_line = int(case.get("line") or 0) + 1  # xunit1 writes 0-based lines
        verb = "failed" if problem.tag == "failure" else "errored"
        reason = _first_line(problem.get("message") or problem.text or "")
        findings.append(
            FAILED.finding(
                path,
                f"{node_id} {verb}: {reason}",
                _failing_line(text, path) or def_line,
                fix_title=f"Make {node_id} pass: fix the code, or the test if the behaviour "
                "changed on purpose",
            )
        )
    return findings, counts


def _last_error_line(text: str) -> str:
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return errors[-1] if errors else _first_line(text)


OPTIONS: dict[str, type | tuple[type, ...]] = {
    "args": list,
    "paths": list,
    "markers": str,
    "timeout_s": (int, float),
    "select": bool,  # with --base/--changed, run only the tests the change can affect (default)
}


def run(ctx: GateContext) -> GateOutput:
    reason = nested_run_reason(ctx.root)
    if reason:
        return GateOutput(skipped=reason)
    args = [
        *python_tool("pytest"),
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "junit_family=xunit1",
        "--continue-on-collection-errors",
    ]
    if ctx.options.get("markers"):
        args += ["-m", str(ctx.options["markers"])]
    args += [str(a) for a in ctx.options.get("args", [])]
    timeout_s = float(ctx.options.get("timeout_s", DEFAULT_TIMEOUT_S))
    test_paths = [str(p) for p in ctx.options.get("paths", [])]
    selected: dict[str, object] = {}
    if (ctx.base or ctx.changed_only) and ctx.options.get("select", True):
        from harness.gates.test_selection import select_tests, with_deleted

        selection = select_tests(ctx.root, with_deleted(ctx.root, ctx.paths, ctx.base), test_paths)
        selected = selection.metrics()
        if not selection.is_full_suite:
            if not selection.tests:
                reason = "no test can be affected by the change"
                return GateOutput(metrics=selected, skipped=reason)
            test_paths = list(selection.tests)
    with tempfile.TemporaryDirectory(prefix="harness-tests-") as scratch:
        junit = Path(scratch) / "junit.xml"
        args += [f"--junitxml={junit}", *test_paths]
        ran = run_tool(
            args,
            ctx.root,
            timeout_s=timeout_s,
            env={GUARD_ENV: str(ctx.root.resolve()), **code_under_check(ctx.root)},
        )
        xml_text = junit.read_text(encoding="utf-8") if junit.exists() else ""
    if ran.problem or ran.returncode not in _PYTEST_RAN or not xml_text:
        problem = f"pytest did not run to the end: {ran.problem or ran.tail(5)}"
        return GateOutput([DID_NOT_RUN.finding("pyproject.toml", problem)])
    try:
        findings, counts = findings_from_junit(xml_text)
    except ET.ParseError as err:
        problem = f"pytest's JUnit XML is unreadable: {err}"
        return GateOutput([DID_NOT_RUN.finding("pyproject.toml", problem)])
    if ran.returncode == 5:
        findings.append(
            DID_NOT_RUN.finding(
                "pyproject.toml",
                "pytest collected no tests",
                fix_title="Check [tool.pytest.ini_options] testpaths and the gate's `paths` option",
            )
        )
    counts["duration_s"] = round(counts["duration_s"], 3)
    return GateOutput(findings, {**counts, **selected})


GATE = Gate(
    description="pytest passes (JUnit XML parsed into findings)",
    run=run,
    codes=(FAILED, UNCOLLECTABLE, DID_NOT_RUN),
    options=OPTIONS,
)
