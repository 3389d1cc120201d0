"""The junit format: one testcase per finding at the failing severity, one per clean gate.

Most CI viewers show only the first ``<failure>`` of a testcase, so each failing finding is a
testcase of its own (``classname`` = the gate, ``name`` = ``CODE path:line``); a gate with no
failing finding is one passing testcase (or a skipped one), so every gate shows up. Findings
below the failing severity go to the gate's ``system-out``.
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
    tests = failures = skipped = 0
    total_time = 0.0
    for gate in report.gates:
        total_time += gate.duration_s
        findings = sorted(gate.findings, key=Finding.sort_key)
        failing = [f for f in findings if SEVERITY_RANK[f.severity] >= floor]
        others = [f for f in findings if SEVERITY_RANK[f.severity] < floor]
        classname = f"harness.{gate.id}"
        if gate.skipped or not failing:
            case = ET.SubElement(
                suite, "testcase", classname=classname, name=gate.id, time=f"{gate.duration_s:.3f}"
            )
            if gate.skipped:
                ET.SubElement(case, "skipped", message=gate.skipped)
                skipped += 1
            elif not gate.ok:
                ET.SubElement(case, "failure", message=f"gate {gate.id} failed", type="gate")
                failures += 1
            if others:
                ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in others)
            tests += 1
            continue
        for index, f in enumerate(failing):
            case = ET.SubElement(
                suite, "testcase", classname=classname, name=f"{f.rule} {f.path}:{f.line}", time="0"
            )
            failure = ET.SubElement(case, "failure", message=f"{f.rule} {f.message}", type=f.rule)
            failure.text = _line(f) + (f"\nfix: {f.fix_title}" if f.fix_title else "")
            if index == 0 and others:  # the gate's lesser findings, once
                ET.SubElement(case, "system-out").text = "\n".join(_line(o) for o in others)
        tests += len(failing)
        failures += len(failing)
    for element in (suites, suite):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("time", f"{total_time:.3f}")
    suite.set("skipped", str(skipped))
    suite.set("errors", "0")
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
