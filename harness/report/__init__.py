"""Output formats for a CheckReport: one module per format, each with ``render(report, context)``.

Reporters are pure functions of the report (they import only harness.findings and the
standard library); what they need beyond it (rule metadata for SARIF, source lines for column
conversion) comes in the RenderContext.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.findings import CheckReport

FORMATS = ("text", "json", "jsonl", "sarif", "github", "junit", "markdown")


@dataclass(frozen=True)
class RenderContext:
    # code -> {name, short, full, help_text, help_markdown, severity}; used by sarif
    rules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # (repo-relative path, 1-based line) -> that line's text, or None; for UTF-16 columns
    read_line: Callable[[str, int], str | None] | None = None
    limit: int = 50  # text format: findings shown before "... and N more"
    tool_version: str = ""
    has_step_summary: bool = False  # github: the overflow goes to $GITHUB_STEP_SUMMARY


@dataclass(frozen=True)
class Rendered:
    text: str
    step_summary: str | None = None  # github only: markdown for $GITHUB_STEP_SUMMARY


def render(fmt: str, report: CheckReport, context: RenderContext | None = None) -> Rendered:
    """Render ``report`` in format ``fmt`` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; formats are {', '.join(FORMATS)}")
    module = importlib.import_module(f"{__name__}.{fmt}")
    result = module.render(report, context or RenderContext())
    return Rendered(*result) if isinstance(result, tuple) else Rendered(result)
