"""``harness bench step --compare REF``: REF's nanochat against the working tree's, interleaved A/B.

REF's ``nanochat/`` is exported with ``git archive`` into a temporary folder. Two long-lived
workers (``python -m harness.bench.worker``) each build the model once: A imports REF's nanochat, B
the working tree's (``root/nanochat``); the timing code in both is this harness. They build at the
same time, warm up one after the other, then the parent asks them for rounds alternately, A, B, A,
B, ..., with only one worker running at a time, so a slow drift of the machine (clocks, heat,
neighbours) lands on both sides alike instead of posing as a difference.

The ratio is B/A in ms/step (working tree over REF: above 1 means the working tree is slower): the
median of the per-pair ratios b_i / a_i of adjacent rounds, with a percentile bootstrap interval
that resamples the pairs. Both workers are killed when the comparison ends, fails or is interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import harness
from harness.bench.stats import bootstrap_ci
from harness.bench.step import StepBench, check_bench, summarize
from harness.errors import HarnessError
from harness.git import export_tree, resolve

SIDES = ("a", "b")


@dataclass(frozen=True)
class CompareSettings:
    resamples: int = 2000  # bootstrap resamples of the paired rounds
    confidence: float = 0.95
    kill_grace_s: float = 5.0  # after terminate(), wait this long before kill()


class Worker:
    """One ``harness.bench.worker`` child timing the nanochat found under ``nanochat_root``."""

    def __init__(
        self, label: str, nanochat_root: Path, bench: StepBench, log_dir: Path, grace_s: float
    ):
        self.label = label
        self.grace_s = grace_s
        self.stderr_path = log_dir / f"worker-{label}.stderr"
        harness_parent = str(Path(harness.__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (harness_parent, env.get("PYTHONPATH")) if p)
        with self.stderr_path.open("w", encoding="utf-8") as stderr:
            # cwd is the neutral log folder: -m puts the cwd first on sys.path.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "harness.bench.worker", str(nanochat_root)],
                cwd=log_dir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                encoding="utf-8",
                env=env,
            )
        self.send(asdict(bench))

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def send(self, message: dict) -> None:
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # the worker died; receive() reports why

    def receive(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            status = self.process.wait()
            lines = self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
            last = lines[-1].strip() if lines else "no output"
            raise HarnessError(f"bench worker {self.label} exited with status {status}: {last}")
        message = json.loads(line)
        if "error" in message:
            raise HarnessError(f"{self.label}: {message['error']}")
        return message

    def ask(self, op: str) -> dict:
        self.send({"op": op})
        return self.receive()

    def close(self) -> None:
        """Terminate the child (kill it if it lingers) and reap it; safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(self.grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()


def compare_step(
    root: Path, ref: str, bench: StepBench, settings: CompareSettings = CompareSettings()
) -> dict:
    """Time REF's nanochat (side a) against the working tree's (side b) in one interleaved run."""
    check_bench(bench)
    if bench.rounds < 2:
        raise HarnessError(
            f"--rounds {bench.rounds}: --compare needs at least 2 rounds for an interval"
        )
    root = Path(root)
    commit = resolve(root, ref)
    if not (root / "nanochat").is_dir():
        raise HarnessError(f"{root}: no nanochat/ folder to time; run from the repository root")
    labels = {"a": f"{ref} ({commit[:12]})", "b": "working tree"}
    with (
        tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        tmp_dir = Path(tmp)
        export_tree(root, commit, ["nanochat"], tmp_dir / "ref")
        if not (tmp_dir / "ref" / "nanochat").is_dir():
            raise HarnessError(
                f"{ref}: has no nanochat/ folder; compare against a commit that has one"
            )
        roots = {"a": tmp_dir / "ref", "b": root.resolve()}
        workers = {
            side: stack.enter_context(
                Worker(side.upper(), roots[side], bench, tmp_dir, settings.kill_grace_s)
            )
            for side in SIDES
        }
        for worker in workers.values():
            worker.receive()  # built
        warmups = {side: workers[side].ask("warmup") for side in SIDES}  # one after the other
        rounds: list[dict] = []
        for index in range(bench.rounds):
            for side in SIDES:
                rounds.append({"side": side, "index": index, **workers[side].ask("round")})
        facts = {side: workers[side].ask("finish") for side in SIDES}
    by_side = {side: [r for r in rounds if r["side"] == side] for side in SIDES}
    results = {
        side: {"label": labels[side], **summarize(bench, facts[side], warmups[side], by_side[side])}
        for side in SIDES
    }
    ratios = [
        b["ms_per_step"] / a["ms_per_step"] for a, b in zip(by_side["a"], by_side["b"], strict=True)
    ]
    low, high = bootstrap_ci(
        ratios, statistics.median, settings.resamples, settings.confidence, bench.seed
    )
    return {
        "ref": ref,
        "ref_commit": commit,
        "config": asdict(bench),
        "a": results["a"],
        "b": results["b"],
        "rounds": rounds,
        "ratio": {
            "b_over_a": statistics.median(ratios),
            "ci_low": low,
            "ci_high": high,
            "confidence": settings.confidence,
            "resamples": settings.resamples,
            "per_pair": ratios,
        },
    }
