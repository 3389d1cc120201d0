"""The fingerprint baseline: known findings that are hidden until fixed; the file may only shrink.

The file is a JSON list of ``{"fingerprint", "rule", "path"}`` objects, one per line, sorted.
A finding whose fingerprint is listed is hidden. An entry that no longer matches a finding in
a file that was checked is stale (HC004: delete it). A baseline that gained entries against
``--base`` fails (HC007): new findings are fixed, not baselined.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from harness.findings import Finding
from harness.lint.codes import BASELINE_GREW, STALE_BASELINE


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    rule: str
    path: str


def parse_baseline(text: str, source: str) -> list[BaselineEntry]:
    """Entries of a baseline file's text; ``source`` names the file in errors."""
    try:
        raw = json.loads(text)
        if not isinstance(raw, list):
            raise ValueError("expected a JSON list")
        return [BaselineEntry(str(e["fingerprint"]), str(e["rule"]), str(e["path"])) for e in raw]
    except (ValueError, KeyError, TypeError) as err:
        raise HarnessError(
            f"{source}: not a harness baseline ({err}); expected a JSON list of "
            '{"fingerprint", "rule", "path"} objects'
        ) from err


def load_baseline(path: Path, source: str) -> list[BaselineEntry]:
    """Entries of the baseline at ``path``; an absent file is an empty baseline."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as err:
        raise HarnessError(f"{source}: cannot read the baseline ({err}); fix or delete it") from err
    return parse_baseline(text, source)


def render_baseline(findings: Collection[Finding]) -> str:
    """Baseline file text listing ``findings`` (deterministic, one entry per line)."""
    entries = sorted({(f.path, f.rule, f.fingerprint) for f in findings if f.fingerprint})
    lines = [
        json.dumps({"fingerprint": fp, "rule": rule, "path": path}, sort_keys=True)
        for path, rule, fp in entries
    ]
    return "[\n" + ",\n".join(f"  {line}" for line in lines) + ("\n]\n" if lines else "]\n")


@dataclass
class BaselineOutcome:
    findings: list[Finding]  # visible findings, plus HC004 for stale entries
    hidden: int


def apply_baseline(
    findings: list[Finding],
    entries: list[BaselineEntry],
    baseline_path: str,
    baseline_text: str,
    checked_paths: Collection[str] | None,
) -> BaselineOutcome:
    """Hide baselined findings; report entries for ``checked_paths`` (None: all) that match none."""
    listed = {e.fingerprint for e in entries}
    visible = [f for f in findings if f.fingerprint not in listed]
    hidden = len(findings) - len(visible)
    present = {f.fingerprint for f in findings}
    for entry in entries:
        is_checked = checked_paths is None or entry.path in checked_paths
        if is_checked and entry.fingerprint not in present:
            visible.append(
                STALE_BASELINE.finding(
                    baseline_path,
                    f"stale baseline entry: {entry.rule} in {entry.path} no longer occurs",
                    _line_of(baseline_text, entry.fingerprint),
                )
            )
    return BaselineOutcome(visible, hidden)


def baseline_growth(
    current: list[BaselineEntry],
    previous: list[BaselineEntry],
    baseline_path: str,
    text: str,
    base: str,
) -> list[Finding]:
    """HC007 for every entry in ``current`` that the baseline at ``base`` did not have."""
    before = {e.fingerprint for e in previous}
    return [
        BASELINE_GREW.finding(
            baseline_path,
            f"baseline grew against {base}: new entry {e.rule} in {e.path}",
            _line_of(text, e.fingerprint),
        )
        for e in current
        if e.fingerprint not in before
    ]


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 1


def update_baseline(root: Path, settings, prune_only: bool) -> tuple[int, int]:
    """Rewrite the baseline from a whole-repository rules run; return (entries before, after).

    ``prune_only`` drops stale entries and adds nothing (the ratchet); otherwise every current
    finding is recorded (adopting the rules on an existing codebase).
    """
    from harness.lint.cache import atomic_write
    from harness.lint.runner import lint_paths

    path = root / settings.baseline
    before = load_baseline(path, settings.baseline)
    findings = [f for f in lint_paths(root, settings).findings if f.fingerprint]
    if prune_only:
        listed = {e.fingerprint for e in before}
        findings = [f for f in findings if f.fingerprint in listed]
    atomic_write(path, render_baseline(findings))
    return len(before), len({f.fingerprint for f in findings})
