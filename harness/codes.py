"""Finding codes that gates and the engine emit, each declared once: severity, fix, docs.

A lint rule declares its code on its ``Rule`` class; every other code (HC*, PROT*, TI*, ARCH*,
DOC*, ...) is a ``Code`` declared in the module that emits it and listed by its gate (or by
``harness.lint.codes`` for the engine). Findings are built from the declaration, so the
severity SARIF advertises, the fix title the text format prints and what ``harness explain``
says cannot disagree. Pure data: imports only ``harness.findings``.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.findings import Finding, Fix, Severity


@dataclass(frozen=True)
class Code:
    """One stable code: its default severity, the fix in the imperative, and its docs."""

    code: str
    severity: Severity
    fix_title: str
    doc: str  # what `harness explain CODE` prints: what it means, why it matters, what to do
    why: str = ""  # one line, carried by each finding (SARIF and markdown show it)

    @property
    def summary(self) -> str:
        """The first sentence of the docs, on one line."""
        paragraph = " ".join(self.doc.split())
        end = paragraph.find(". ")
        return paragraph[: end + 1] if end >= 0 else paragraph

    def finding(
        self,
        path: str,
        message: str,
        line: int = 1,
        col: int = 1,
        *,
        fix_title: str = "",
        why: str = "",
        severity: Severity | None = None,
        end_line: int | None = None,
        end_col: int | None = None,
        fix: Fix | None = None,
        fingerprint: str = "",
    ) -> Finding:
        """A finding of this code at ``path:line:col``; ``fix_title`` and ``why`` override the
        declared ones where the site calls for a more specific instruction."""
        return Finding(
            rule=self.code,
            severity=severity or self.severity,
            path=path,
            line=max(line, 1),
            col=max(col, 1),
            message=message,
            fix_title=fix_title or self.fix_title,
            end_line=end_line,
            end_col=end_col,
            why=why or self.why,
            doc=f"harness explain {self.code}",
            fix=fix,
            fingerprint=fingerprint,
        )


# Codes that name one concept, reported by different tools: at one site ("line") or anywhere in
# one file ("file"), the check keeps one finding and names the others. Third-party codes are
# ruff's (E722 bare except, S110 try-except-pass, BLE001 blind except, B006 mutable default,
# E999 syntax error).
SAME_CONCEPT: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"E722", "S110", "BLE001", "NC203"}), "line"),
    (frozenset({"B006", "NC205"}), "line"),
    (frozenset({"E999", "HC001", "FMT002"}), "file"),
)
