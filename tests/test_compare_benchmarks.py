"""ci/compare_benchmarks.py compares pytest-benchmark medians with a stored baseline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "ci" / "compare_benchmarks.py"


def bench_file(path: Path, medians: dict[str, float]) -> Path:
    benchmarks = [{"fullname": name, "stats": {"median": m}} for name, m in medians.items()]
    path.write_text(json.dumps({"benchmarks": benchmarks}))
    return path


def compare(tmp_path: Path, before: dict, after: dict, *flags: str):
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(bench_file(tmp_path / "a.json", before)),
         str(bench_file(tmp_path / "b.json", after)), *flags],
        capture_output=True, text=True,
    )  # fmt: skip


def test_a_run_within_the_limit_passes_and_prints_the_ratio(tmp_path: Path) -> None:
    done = compare(tmp_path, {"t::step": 0.010}, {"t::step": 0.012})
    assert done.returncode == 0
    assert "| t::step | 10.00 ms | 12.00 ms | 1.20 |" in done.stdout


def test_a_slowdown_past_the_limit_fails(tmp_path: Path) -> None:
    done = compare(tmp_path, {"t::step": 0.010}, {"t::step": 0.020}, "--max-slowdown", "1.5")
    assert done.returncode == 1 and "1 benchmark(s) slower than 1.5x" in done.stdout


def test_benchmarks_on_one_side_are_listed_not_failed(tmp_path: Path) -> None:
    done = compare(tmp_path, {"t::old": 0.01}, {"t::new": 0.01})
    assert done.returncode == 0
    assert "only in the baseline: t::old" in done.stdout
    assert "only in the current run: t::new" in done.stdout


def test_a_file_that_is_not_a_benchmark_run_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("[]")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "x.json"), str(tmp_path / "x.json")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.strip().endswith("rerun with --benchmark-json")
    assert len(done.stderr.strip().splitlines()) == 1
