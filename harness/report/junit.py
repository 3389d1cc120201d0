"""The junit format: one testcase per gate, one failure element per finding at the failing severity.

For CI systems that render JUnit XML; findings below the failing severity go to system-out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.findings import SEVERITY_RANK, CheckReport, Finding


def _line(f: Finding) -> str:
    return f"{f.path}:{f.line}:{f.col}: {f.rule} {f.message}"


def render(report: CheckReport, context) -> str:
    floor = SEVERITY_RANK[report.fail_severity]
    suites = ET.Element("testsuites", name="harness")
    suite = ET.SubElement(suites, "testsuite", name="harness check")
    total_failures = 0
    total_time = 0.0
    for gate in report.gates:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="harness.gates",
            name=gate.id,
            time=f"{gate.duration_s:.3f}",
        )
        total_time += gate.duration_s
        findings = sorted(gate.findings, key=Finding.sort_key)
        failing = [f for f in findings if SEVERITY_RANK[f.severity] >= floor]
        if gate.skipped:
            ET.SubElement(case, "skipped", message=gate.skipped)
        for f in failing:
            failure = ET.SubElement(case, "failure", message=f"{f.rule} {f.message}", type=f.rule)
            failure.text = _line(f) + (f"\nfix: {f.fix_title}" if f.fix_title else "")
        if not gate.ok and not gate.skipped and not failing:
            ET.SubElement(case, "failure", message=f"gate {gate.id} failed", type="gate")
            failing = [None]
        others = [f for f in findings if SEVERITY_RANK[f.severity] < floor]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in others)
        total_failures += len(failing) if not gate.skipped else 0
    count = str(len(report.gates))
    skipped = str(sum(1 for g in report.gates if g.skipped))
    for element in (suites, suite):
        element.set("tests", count)
        element.set("failures", str(total_failures))
        element.set("time", f"{total_time:.3f}")
    suite.set("skipped", skipped)
    suite.set("errors", "0")
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
