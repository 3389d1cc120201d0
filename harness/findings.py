"""The one data model every gate produces and every reporter consumes.

Pure data: no I/O, and no imports from the rest of harness. Positions are 1-based; columns
count Unicode code points (reporters convert to UTF-16 units or UTF-8 bytes as a format asks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based (line, col) positions; col counts code points."""

    line: int
    col: int
    end_line: int
    end_col: int
    replacement: str


@dataclass(frozen=True)
class Fix:
    title: str
    edits: tuple[Edit, ...]
    applicability: Literal["safe", "unsafe"] = "safe"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    path: str
    line: int
    col: int
    message: str
    fix_title: str = ""
    end_line: int | None = None
    end_col: int | None = None
    why: str = ""
    doc: str = ""
    fix: Fix | None = None
    fingerprint: str = ""

    @property
    def has_fix(self) -> bool:
        return self.fix is not None

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.col, self.rule, self.message)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.fix is not None:
            data["fix"]["edits"] = [asdict(e) for e in self.fix.edits]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The inverse of to_dict (used by the lint cache)."""
        fields = dict(data)
        fix = fields.pop("fix", None)
        if fix is not None:
            edits = tuple(Edit(**e) for e in fix["edits"])
            fields["fix"] = Fix(fix["title"], edits, fix["applicability"])
        return cls(**fields)


def fingerprint(rule: str, path: str, line_text: str, occurrence: int = 0) -> str:
    """Stable across unrelated edits: rule + path + whitespace-normalized line content."""
    normalized = " ".join(line_text.split())
    digest = hashlib.sha256(f"{rule}\0{path}\0{normalized}\0{occurrence}".encode()).hexdigest()
    return digest[:16]


def with_fingerprints(
    findings: list[Finding], lines_of: Callable[[str], list[str]]
) -> list[Finding]:
    """``findings`` sorted, each with a fingerprint where none is set; repeats of one rule on
    identical lines of a file are numbered. ``lines_of(path)`` gives a file's lines."""
    lines: dict[str, list[str]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    result = []
    for finding in sorted(findings, key=Finding.sort_key):
        if finding.fingerprint:
            result.append(finding)
            continue
        if finding.path not in lines:
            lines[finding.path] = lines_of(finding.path)
        text = lines[finding.path]
        line_text = (
            " ".join(text[finding.line - 1].split()) if 0 < finding.line <= len(text) else ""
        )
        key = (finding.rule, finding.path, line_text)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        stamp = fingerprint(finding.rule, finding.path, line_text, occurrence)
        result.append(replace(finding, fingerprint=stamp))
    return result


@dataclass
class GateResult:
    id: str
    ok: bool
    duration_s: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ok": self.ok,
            "duration_s": round(self.duration_s, 4),
            "skipped": self.skipped,
            "findings": [f.to_dict() for f in sorted(self.findings, key=Finding.sort_key)],
            "metrics": dict(sorted(self.metrics.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        """The inverse of to_dict (a report handed back by another harness process)."""
        return cls(
            id=data["id"],
            ok=bool(data["ok"]),
            duration_s=float(data.get("duration_s", 0.0)),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            metrics=dict(data.get("metrics", {})),
            skipped=str(data.get("skipped", "")),
        )


@dataclass
class CheckReport:
    gates: list[GateResult]
    fail_severity: Severity = "error"
    # Who judged: the policy's source and the checker's ("working tree", "base main (1a2b3c)").
    judged_by: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the reader should know, one line each

    def fixes(self) -> dict[str, dict[str, int]]:
        """``{path: {code: count}}`` of what ``--fix`` changed, over every gate."""
        merged: dict[str, dict[str, int]] = {}
        for gate in self.gates:
            for path, codes in (gate.metrics.get("fixes") or {}).items():
                for code, count in codes.items():
                    merged.setdefault(path, {})
                    merged[path][code] = merged[path].get(code, 0) + count
        return dict(sorted(merged.items()))

    @property
    def findings(self) -> list[Finding]:
        return sorted((f for g in self.gates for f in g.findings), key=Finding.sort_key)

    def failing(self) -> list[Finding]:
        floor = SEVERITY_RANK[self.fail_severity]
        return [f for f in self.findings if SEVERITY_RANK[f.severity] >= floor]

    @property
    def ok(self) -> bool:
        return all(g.ok or g.skipped for g in self.gates) and not self.failing()

    def summary(self) -> dict[str, Any]:
        counts = {s: 0 for s in SEVERITY_RANK}
        for f in self.findings:
            counts[f.severity] += 1
        return {
            "findings": len(self.findings),
            "by_severity": counts,
            "fixable": sum(1 for f in self.findings if f.has_fix),
            "gates_failed": [g.id for g in self.gates if not (g.ok or g.skipped)],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "ok": self.ok,
            "gates": [g.to_dict() for g in self.gates],
            "summary": self.summary(),
            "judged_by": dict(sorted(self.judged_by.items())),
            "fail_severity": self.fail_severity,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckReport:
        """The inverse of to_dict."""
        return cls(
            gates=[GateResult.from_dict(g) for g in data["gates"]],
            fail_severity=data.get("fail_severity", "error"),
            judged_by=dict(data.get("judged_by", {})),
            notes=list(data.get("notes", [])),
        )
