"""The opt-in bench gate times the base's step against the change's, interleaved, for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.check import run_gate
from harness.gates import GateContext

REPO = Path(__file__).resolve().parents[2]
TINY = {"depth": 2, "sequence_len": 64, "device_batch_size": 2, "rounds": 3, "data": "synthetic"}


def test_without_a_base_the_bench_gate_is_skipped(tmp_path: Path) -> None:
    result = run_gate("bench", GateContext(root=tmp_path))
    assert result.ok and result.skipped.startswith("no base ref")


@pytest.mark.slow
def test_against_head_the_ratio_and_its_interval_are_reported(tmp_path: Path) -> None:
    result = run_gate("bench", GateContext(root=REPO, base="HEAD", options=TINY))
    metrics = result.metrics
    assert metrics["ci_low"] <= metrics["ratio"] <= metrics["ci_high"]
    assert metrics["ms_per_step"] > 0 and metrics["base_ms_per_step"] > 0


@pytest.mark.slow
def test_a_limit_below_any_real_ratio_fails_with_bench001(tmp_path: Path) -> None:
    options = {**TINY, "max_slowdown": 0.01}
    result = run_gate("bench", GateContext(root=REPO, base="HEAD", options=options))
    assert not result.ok
    (finding,) = result.findings
    assert finding.rule == "BENCH001" and "above the limit 0.01" in finding.message
