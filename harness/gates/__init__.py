"""Gates: one module per gate, each exposing ``GATE`` (a Gate) whose ``run`` returns a GateOutput.

A gate never prints or exits, and does only its own check: it turns what it checked into
findings and metrics. The runner (``harness.check.run_gate``) does the common work: it
validates the gate's options, times it, stamps its id, fingerprints its findings and decides
``ok`` from the fail severity. Ids and tiers are declared once, in ``harness.registry``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.codes import Code
from harness.findings import Finding
from harness.registry import GATE_IDS, TIERS, module_name

if TYPE_CHECKING:
    from harness.config import Settings
    from harness.policy import Policy

__all__ = ["GATE_IDS", "TIERS", "Gate", "GateContext", "GateOutput", "load_gate"]

OptionType = type | tuple[type, ...]


@dataclass(frozen=True)
class GateContext:
    """What every gate may read: where the repo is, which files, which base ref, which settings."""

    root: Path
    paths: tuple[str, ...] = ()  # repo-relative POSIX paths to check; empty = the whole repo
    changed_only: bool = False  # paths came from --changed/--base/--fast
    base: str | None = None  # git ref for diff-based gates (test-integrity)
    fix: bool = False
    unsafe_fixes: bool = False
    settings: Settings | None = None  # filled in by the runner
    options: Mapping[str, Any] = field(default_factory=dict)  # [tool.harness.gates.ID]
    policy: Policy | None = None  # what judges; filled in by the runner


@dataclass
class GateOutput:
    """What a gate found: its findings and metrics, or why it did not run."""

    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""


@dataclass(frozen=True)
class Gate:
    description: str
    run: Callable[[GateContext], GateOutput]
    codes: tuple[Code, ...] = ()  # every code this gate emits (`harness explain CODE`)
    options: Mapping[str, OptionType] = field(default_factory=dict)  # accepted option types


def load_gate(gate_id: str) -> Gate:
    """Import only the module of ``gate_id``."""
    return importlib.import_module(module_name(gate_id)).GATE
