"""The report reads a real ledger in a temp folder: exact summary figures, a real PNG, exact rows.

Scores are binary fractions (0.9375, 1.0625) so means and gains are exact; only ratios of
seconds need a tolerance.
"""

from __future__ import annotations

import struct

import pytest
from rich.console import Console

from harness.research.ledger import Ledger
from harness.research.report import (
    ProgressStyle,
    markdown,
    progress_png,
    status_renderable,
    status_table,
    summary,
)

DIFF = "-    rotary_base = 10000\n+    rotary_base = 50000"
LONG = "replace the ReLU squared MLP activation with SwiGLU at the same parameter count"
META = {
    "tag": "mar5",
    "branch": "research/mar5",
    "base_commit": "ba5e0001ffff",
    "objective": {"key": "val_bpb", "direction": "min"},
    "noise": {
        "scores": [1.0, 1.0625, 0.9375],
        "mean": 1.0,
        "stdev": 0.0625,
        "mad": 0.0625,
        "margin": 0.03125,
    },
}
USAGE = {
    "input_tokens": 1000,
    "output_tokens": 200,
    "cache_read_tokens": 50,
    "cache_write_tokens": 10,
    "usd": 0.25,
    "requests": 2,
}


def _experiment(number: int, status: str, score, description: str, **extra) -> dict:
    total_s, training_s = extra.pop("seconds", (0.0, 0.0))
    return {
        "kind": "experiment",
        "id": f"e{number:04d}",
        "worker": number % 2,
        "parent": "ba5e000",
        "commit": f"c0ffee{number}aaaa",
        "status": status,
        "reason": extra.pop("reason", ""),
        "description": description,
        "hypothesis": "a larger rotary base helps long contexts",
        "diff": DIFF,
        "score": score,
        "test_score": extra.pop("test_score", None),
        "decision": extra.pop("decision", {}),
        "timings": {"total_s": total_s, "training_seconds": training_s},
        "usage": USAGE,
        **extra,
    }


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    ledger = Ledger.create(tmp_path / "mar5", META)
    for seed, score in zip((42, 43, 44), (1.0, 1.0625, 0.9375), strict=True):
        ledger.append(
            {
                "kind": "baseline",
                "commit": "ba5e0001ffff",
                "seed": seed,
                "score": score,
                "test_score": 1.125,
                "status": "keep",
                "description": f"baseline seed {seed}",
            }
        )
    decision = {"gain": 0.0625, "margin": 0.03125, "confidence": 0.99, "best_before": 1.0}
    records = [
        _experiment(1, "discard", 1.015625, "raise matrix_lr to 0.04", seconds=(400.0, 300.0)),
        _experiment(
            2,
            "keep",
            0.9375,
            "rotary base 50000 | longer warmdown",
            test_score=1.0625,
            decision=decision,
            seconds=(600.0, 300.0),
        ),
        _experiment(
            3,
            "crash",
            None,
            "fp8 matmuls",
            reason="trainer exited 1 (NaN loss)",
            seconds=(50.0, 0.0),
        ),
        _experiment(
            4, "reject", None, "move the model to cuda", reason="gates: NC104", seconds=(5.0, 0.0)
        ),
        _experiment(
            5,
            "keep",
            0.875,
            LONG,
            test_score=1.0,
            seconds=(375.0, 300.0),
            decision={**decision, "best_before": 0.9375, "confidence": 0.95},
        ),
        _experiment(6, "discard", 5.0, "lr x 100 (diverged)", seconds=(330.0, 300.0)),
    ]
    for record in records:
        ledger.append(record)
    ledger.append(
        {
            "kind": "scale",
            "depth": 6,
            "base_score": 1.5,
            "stack_score": 1.4375,
            "gain": 0.0625,
            "margin": 0.03125,
            "transfers": True,
            "commit": "c0ffee5aaaa",
        }
    )
    ledger.append(
        {
            "kind": "promote",
            "depth": 6,
            "commit": "f00d0001bbbb",
            "mode": "stacked",
            "description": "rotary base 50000 + SwiGLU",
            "score": 1.4375,
            "base_score": 1.5,
            "gain": 0.0625,
            "margin": 0.03125,
            "transfers": True,
        }
    )
    return ledger


def test_summary_counts_scores_spend_and_overhead(ledger):
    facts = summary(ledger)
    overhead_share = facts.pop("overhead_share")
    assert facts == {
        "tag": "mar5",
        "objective": "val_bpb",
        "direction": "min",
        "experiments": 6,
        "keeps": 2,
        "discards": 2,
        "crashes": 1,
        "rejects": 1,
        "baseline_score": 1.0,
        "baseline_commit": "ba5e0001ffff",
        "margin": 0.03125,
        "best_score": 0.875,
        "best_commit": "c0ffee5aaaa",
        "best_id": "e0005",
        "best_description": LONG,
        "gain": 0.125,
        "baseline_test_score": 1.125,
        "best_test_score": 1.0,
        "input_tokens": 6000,
        "output_tokens": 1200,
        "cache_read_tokens": 300,
        "cache_write_tokens": 60,
        "tokens": 7560,
        "usd": 1.5,
        "requests": 12,
        "overhead_s": 87.5,  # median of 100, 300, 75, 30 (crash and reject did not train)
    }
    # median of 1/4, 1/2, 1/5, 1/11; the ratios are not exact in binary
    assert overhead_share == pytest.approx((0.25 + 0.2) / 2, rel=1e-12)


def test_summary_gain_follows_a_max_objective(tmp_path):
    meta = {**META, "objective": {"key": "core", "direction": "max"}}
    ledger = Ledger.create(tmp_path / "max", meta)
    ledger.append({"kind": "baseline", "commit": "b", "score": 0.25, "status": "keep"})
    ledger.append(_experiment(1, "keep", 0.375, "better core"))
    ledger.append(_experiment(2, "keep", 0.3125, "a later, smaller keep"))
    facts = summary(ledger)
    assert (facts["best_score"], facts["best_id"], facts["gain"]) == (0.375, "e0001", 0.125)


def _png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


def test_progress_png_is_a_png_of_the_style_size(ledger, tmp_path):
    path = progress_png(ledger, tmp_path / "progress.png")
    assert _png_size(path) == (1200, 500)


def test_progress_png_of_a_ledger_without_experiments(tmp_path):
    ledger = Ledger.create(tmp_path / "empty", META)
    ledger.append({"kind": "baseline", "commit": "b", "score": 1.0, "status": "keep"})
    path = progress_png(ledger, tmp_path / "p.png", ProgressStyle(width_in=4, height_in=3, dpi=50))
    assert _png_size(path) == (200, 150)


def test_markdown_has_the_kept_row_and_no_diff(ledger):
    text = markdown(ledger)
    assert (
        "| e0002 | `c0ffee2` | rotary base 50000 \\| longer warmdown | 0.937500 | +0.062500 "
        "| 0.031250 | 0.99 | 1.062500 |"
    ) in text.splitlines()
    assert "| e0003 | crash | - | fp8 matmuls | trainer exited 1 (NaN loss) |" in text.splitlines()
    assert (
        "| 6 | 1.500000 | 1.437500 | +0.062500 | 0.031250 | yes | `c0ffee5` |" in text.splitlines()
    )
    assert "| test val_bpb: baseline, best | 1.125000, 1.000000 |" in text.splitlines()
    assert text.startswith("# Research `mar5`\n")
    assert "![progress](progress.png)" in text
    assert "rotary_base = 50000" not in text
    assert (
        "| 6 | stacked | `f00d000` | rotary base 50000 + SwiGLU | 1.437500 | 1.500000 | +0.062500 "
        "| 0.031250 | yes |"
    ) in text.splitlines()


def _row_cells(text: str, row_id: str) -> list[str]:
    (line,) = [line for line in text.splitlines() if line.startswith(f"│ {row_id} ")]
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_status_table_renders_the_last_experiments(ledger):
    console = Console(record=True, width=120)
    console.print(status_table(ledger, last=5))
    text = console.export_text()
    assert "last 5 of 6 experiments" in text
    assert "e0001" not in text
    assert _row_cells(text, "e0004") == [
        "e0004",
        "0",
        "reject",
        "-",
        "-",
        "5",
        "move the model to cuda",
        "gates: NC104",
    ]
    kept = _row_cells(text, "e0002")
    assert kept[:6] == ["e0002", "0", "keep", "0.937500", "+0.062500", "600"]
    # 120 columns do not fit the whole description: it is cut on its one line, not wrapped
    assert kept[6].startswith("rotary base 50000 |") and kept[6].endswith("…")
    assert len(text.splitlines()) == 1 + 3 + 5 + 1  # title, header, one line a row, bottom


def test_status_renderable_starts_with_the_summary_line(ledger):
    console = Console(record=True, width=200)
    console.print(status_renderable(ledger))
    first = console.export_text().splitlines()[0]
    assert first == (
        "mar5: 6 experiments (2 keep, 2 discard, 1 crash, 1 reject) | best val_bpb 0.875000 "
        "(+0.125000 vs baseline 1.000000) | $1.50, 7,560 tokens | overhead 88 s (22%)"
    )
