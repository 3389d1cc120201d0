"""What ``harness explain`` and ``harness rules`` show, and the rule metadata SARIF carries.

Presentation above the engine and the gates: rule docs come from each rule's docstring
sections; golden examples from ``golden/<CODE>/bad_*.py`` and ``good_*.py``; every other code
(HC..., FMT..., PROT..., ...) from its ``Code`` declaration, found through the gates and the
engine. Returns plain dicts and strings; printing is the CLI's job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.codes import Code
from harness.errors import HarnessError
from harness.gates import load_gate
from harness.lint.codes import ENGINE_CODES
from harness.lint.rule import DOC_SECTIONS
from harness.registry import GATE_IDS


def rule_entry(rule: type) -> dict[str, Any]:
    """Everything known about one Rule class, as JSON-ready data."""
    docs = rule.docs()
    return {
        "code": rule.code,
        "name": rule.name,
        "kind": "rule",
        "severity": rule.severity,
        "fixable": rule.fix_applicability != "never",
        "fix_applicability": rule.fix_applicability,
        "summary": _first_line(docs.get("summary") or docs.get("What it does", "")),
        "message": rule.message,
        "fix_title": rule.fix_title,
        "tags": list(rule.tags),
        "sections": {k: docs[k] for k in DOC_SECTIONS if k in docs},
        "options": [
            {"name": name, "default": option.default, "doc": option.doc}
            for name, option in sorted(rule.options.items())
        ],
    }


def _first_line(text: str) -> str:
    """The first sentence of the first paragraph, on one line."""
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    end = paragraph.find(". ")
    return paragraph[: end + 1] if end >= 0 else paragraph


def rules_table() -> list[dict[str, Any]]:
    from rules import all_rules

    return [rule_entry(r) for r in all_rules()]


def declared_codes() -> dict[str, tuple[str, Code]]:
    """Every non-rule code with where it comes from: ``{code: (gate id or "engine", Code)}``."""
    found: dict[str, tuple[str, Code]] = {}
    for gate_id in GATE_IDS:
        for code in load_gate(gate_id).codes:
            found.setdefault(code.code, (f"gate {gate_id}", code))
    for name, code in ENGINE_CODES.items():
        found.setdefault(name, ("the lint engine", code))
    return found


def code_entry(origin: str, code: Code) -> dict[str, Any]:
    return {
        "code": code.code,
        "kind": "gate",
        "gate": origin,
        "severity": code.severity,
        "fix_title": code.fix_title,
        "summary": code.summary,
        "text": code.doc,
    }


def golden_examples(root: Path, code: str) -> list[dict[str, str]]:
    folder = root / "golden" / code
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("bad_*.py")) + sorted(folder.glob("good_*.py"))
    return [
        {
            "file": p.relative_to(root).as_posix(),
            "kind": p.name.split("_")[0],
            "text": p.read_text(encoding="utf-8"),
        }
        for p in files
    ]


def explain(code: str, root: Path) -> dict[str, Any]:
    """Docs of a rule or gate code; unknown codes raise a one-line HarnessError."""
    from rules import rule_by_code

    code = code.strip().upper()
    rule = rule_by_code(code)
    if rule is not None:
        return {**rule_entry(rule), "golden": golden_examples(root, code)}
    declared = declared_codes().get(code)
    if declared is None:
        raise HarnessError(f"unknown code {code!r}; run `harness rules` to list the rule codes")
    return code_entry(*declared)


def explain_text(entry: dict[str, Any]) -> str:
    if entry["kind"] == "gate":
        head = f"{entry['code']} ({entry['gate']}, {entry['severity']})"
        return f"{head}\n\n{entry['text']}\n\nFix: {entry['fix_title']}\n"
    fixable = {"always": "fix available", "sometimes": "fix sometimes available"}
    head = f"{entry['code']} {entry['name']} ({entry['severity']}, {fixable.get(entry['fix_applicability'], 'no fix')})"
    parts = [head, "", entry["summary"]]
    for section, text in entry["sections"].items():
        if section == "Options":
            continue
        parts += ["", section if section.endswith("?") else f"{section}:", _indent(text)]
    if entry["options"]:
        parts += ["", "Options:"]
        parts += [
            f"    {o['name']} (default {o['default']!r}): {o['doc']}" for o in entry["options"]
        ]
    for example in entry.get("golden", []):
        parts += [
            "",
            f"Golden {example['kind']} example ({example['file']}):",
            _indent(example["text"].rstrip()),
        ]
    return "\n".join(parts) + "\n"


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line.strip() else "" for line in text.splitlines())


def rules_text(entries: list[dict[str, Any]]) -> str:
    lines = [f"{'code':<7} {'name':<36} {'severity':<8} {'fix':<4} summary"]
    for e in entries:
        fix = "yes" if e["fixable"] else "no"
        lines.append(f"{e['code']:<7} {e['name']:<36} {e['severity']:<8} {fix:<4} {e['summary']}")
    return "\n".join(lines) + "\n"


def rules_markdown(entries: list[dict[str, Any]], anchors: bool = False) -> str:
    """The rules as a markdown table; ``anchors`` links each code to its section (docs/rules.md)."""
    lines = ["| Code | Name | Severity | Autofix | Summary |", "|---|---|---|---|---|"]
    for e in entries:
        code = f"[{e['code']}](#{e['code'].lower()})" if anchors else e["code"]
        fix = e["fix_applicability"] if e["fixable"] else "-"
        summary = e["summary"].replace("|", "\\|")
        lines.append(f"| {code} | {e['name']} | {e['severity']} | {fix} | {summary} |")
    return "\n".join(lines) + "\n"


def sarif_rule_meta(codes: set[str]) -> dict[str, dict[str, Any]]:
    """Per code: name, short and full description, help (text and markdown), default level."""
    from rules import rule_by_code

    meta: dict[str, dict[str, Any]] = {}
    declared: dict[str, tuple[str, Code]] | None = None
    for code in sorted(codes):
        rule = rule_by_code(code)
        if rule is not None:
            entry = rule_entry(rule)
            sections = entry["sections"]
            help_md = "\n\n".join(f"### {k}\n{v}" for k, v in sections.items())
            meta[code] = {
                "name": entry["name"],
                "short": entry["summary"] or entry["name"],
                "full": sections.get("Why is this bad?", entry["summary"]) or entry["name"],
                "help_text": f"{entry['fix_title']}. Run `harness explain {code}`.",
                "help_markdown": help_md or entry["summary"],
                "severity": entry["severity"],
            }
            continue
        if declared is None:
            declared = declared_codes()
        if code in declared:
            origin, declaration = declared[code]
            meta[code] = {
                "name": code,
                "short": declaration.summary,
                "full": declaration.doc,
                "help_text": f"{declaration.fix_title}. Run `harness explain {code}`.",
                "help_markdown": f"{declaration.doc}\n\n**Fix:** {declaration.fix_title}",
                "severity": declaration.severity,
            }
    return meta
