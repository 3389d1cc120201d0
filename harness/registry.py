"""The gates, declared once: id and tier, in the order gates run and are reported.

``harness check`` picks gates from here by tier (``--fast``) or id (``--gate ID``) without
importing their modules; ``harness.gates.load_gate`` imports one module when it runs.
Pure data: imports nothing from harness, so config can validate gate ids from below the gates.
"""

from __future__ import annotations

from typing import Literal

Tier = Literal["fast", "full", "opt-in"]

GATES: tuple[tuple[str, Tier], ...] = (
    ("format", "fast"),
    ("ruff", "fast"),
    ("rules", "fast"),
    ("protected", "fast"),
    ("architecture", "full"),
    ("test-integrity", "full"),
    ("docs", "full"),
    ("tests", "full"),
    ("smoke-train", "full"),
    ("metrics", "full"),
    ("bench", "opt-in"),
)
GATE_IDS = tuple(gate_id for gate_id, _ in GATES)
TIERS: dict[str, Tier] = dict(GATES)


def module_name(gate_id: str) -> str:
    """``harness.gates.<module>`` for a gate id (hyphens become underscores)."""
    return f"harness.gates.{gate_id.replace('-', '_')}"
