"""Gates: one module per gate, each exposing ``GATE`` (a Gate) whose ``run`` returns a GateResult.

A gate never prints or exits; it turns what it checked into Findings. The registry below is the
only list of gates; ``harness check`` picks from it by tier or by ``--gate ID``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.findings import GateResult

Tier = Literal["fast", "full", "opt-in"]

# Module names under harness.gates, in the order gates run and are reported.
GATE_MODULES = (
    "format",
    "ruff",
    "rules",
    "protected",
    "architecture",
    "test_integrity",
    "docs",
    "tests",
    "smoke_train",
)


@dataclass(frozen=True)
class GateContext:
    """What every gate may read: where the repo is, which files, which base ref, which settings."""

    root: Path
    paths: tuple[str, ...] = ()  # repo-relative POSIX paths to check; empty = the whole repo
    changed_only: bool = False  # paths came from --changed/--base/--fast
    base: str | None = None  # git ref for diff-based gates (test-integrity)
    fix: bool = False
    unsafe_fixes: bool = False
    settings: Any = None  # harness.config.Settings
    options: dict[str, Any] = field(
        default_factory=dict
    )  # this gate's [tool.harness.gates.ID] table
    policy: Any = None  # harness.policy.Policy: what judges (None: the working tree's)


@dataclass(frozen=True)
class Gate:
    id: str
    tier: Tier
    description: str
    run: Callable[[GateContext], GateResult]
    # Finding codes this gate emits -> one-paragraph explanation (shown by `harness explain CODE`).
    codes: dict[str, str] = field(default_factory=dict)


GATE_IDS = tuple(name.replace("_", "-") for name in GATE_MODULES)

# Each gate's tier, so `--fast` can choose gates without importing the full-tier modules
# (~60 ms). Must equal the module's Gate.tier (a test checks it).
GATE_TIERS: dict[str, Tier] = {
    "format": "fast",
    "ruff": "fast",
    "rules": "fast",
    "protected": "fast",
    "architecture": "full",
    "test-integrity": "full",
    "docs": "full",
    "tests": "full",
    "smoke-train": "full",
}


def load_gate(gate_id: str) -> Gate:
    """Import only the module of ``gate_id`` (hyphens in ids are underscores in module names)."""
    return importlib.import_module(f"{__name__}.{gate_id.replace('-', '_')}").GATE
