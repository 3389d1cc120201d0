"""The recorded research demo: the offline proposer recovers a planted regression on CPU.

    python ci/research_demo.py --work /tmp/research-demo --out docs/research-demo

It copies this repository (tracked and untracked files) into ``WORK/repo``, de-tunes
``nanochat/config.py`` (Muon's matrix LR 0.02 -> 0.005, AdamW's betas (0.8, 0.95) -> (0.8, 0.8)),
adds a CPU-sized ``[tool.harness.research]`` table, approves both as the demo's maintainer and
commits. Then it runs, as a user would::

    harness research init --tag tuned      # on the original config: the target
    harness research init --tag demo       # on the de-tuned commit: the noise floor
    harness research run --tag demo --proposer offline --max-experiments N
    harness research report --tag demo --out OUT

and writes ``OUT/recovery.json``: the planted regression (de-tuned minus tuned baseline, per
seed) and how much of it the kept changes recovered, on the dev split (what decided) and on the
held-out test split (what no proposer saw).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "nanochat/config.py"
DETUNE = (
    ("matrix_lr: float = 0.02", "matrix_lr: float = 0.005"),
    (
        "adam_betas: tuple[float, float] = (0.8, 0.95)",
        "adam_betas: tuple[float, float] = (0.8, 0.8)",
    ),
)
RESEARCH_TABLE = """
[tool.harness.research]
num-steps = 40
train-args = ["--depth", "2", "--sequence-len", "128", "--device-batch-size", "4", "--lr-reference-batch", "512"]
seeds = 3
dev-tokens = 8192
test-tokens = 8192
scale-every = 3
"""
GIT = ["git", "-c", "user.name=research demo", "-c", "user.email=demo@example.invalid",
       "-c", "commit.gpgsign=false"]  # fmt: skip


def _run(args: list[str], cwd: Path) -> None:
    print("$", " ".join(args), flush=True)
    subprocess.run(args, cwd=cwd, check=True)


def _harness(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness", *args]


def _files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return [p for p in listed if (ROOT / p).is_file()]


def make_repo(work: Path) -> Path:
    repo = work / "repo"
    shutil.rmtree(work, ignore_errors=True)
    for path in _files():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, repo / path)
    (repo / "pyproject.toml").write_text((repo / "pyproject.toml").read_text() + RESEARCH_TABLE)
    _run(
        _harness(
            "protect", "approve", "--who", "demo maintainer", "--reason", "demo research settings"
        ),
        repo,
    )
    _run([*GIT, "init", "-q"], repo)
    _run([*GIT, "add", "-A"], repo)
    _run([*GIT, "commit", "-q", "-m", "tuned base with research settings"], repo)
    text = (repo / CONFIG).read_text()
    for old, new in DETUNE:
        assert old in text, f"{CONFIG}: {old!r} not found; update DETUNE"
        text = text.replace(old, new)
    (repo / CONFIG).write_text(text)
    _run([*GIT, "commit", "-q", "-am", "de-tune: matrix_lr 0.005, adam_betas (0.8, 0.8)"], repo)
    return repo


def _scores(repo: Path, tag: str, kind: str) -> list[dict]:
    path = repo / ".harness" / "research" / tag / "research.jsonl"
    return [r for r in map(json.loads, path.read_text().splitlines()) if r["kind"] == kind]


def recovery(repo: Path) -> dict:
    tuned = {r["seed"]: r for r in _scores(repo, "tuned", "baseline")}
    detuned = {r["seed"]: r for r in _scores(repo, "demo", "baseline")}
    kept = [r for r in _scores(repo, "demo", "experiment") if r["status"] == "keep"]
    result = {
        "kept": [r["description"] for r in kept],
        "experiments": len(_scores(repo, "demo", "experiment")),
    }
    if not kept:
        return {**result, "recovered_dev": 0.0}
    best = kept[-1]
    seeds = [int(s) for s in best["scores"]]
    dev_regression = statistics.fmean(detuned[s]["score"] - tuned[s]["score"] for s in seeds)
    dev_gain = statistics.fmean(detuned[s]["score"] - best["scores"][str(s)] for s in seeds)
    test_regression = detuned[42]["test_score"] - tuned[42]["test_score"]
    test_gain = detuned[42]["test_score"] - best["test_score"]
    return {
        **result,
        "seeds": seeds,
        "tuned_dev": {s: tuned[s]["score"] for s in seeds},
        "detuned_dev": {s: detuned[s]["score"] for s in seeds},
        "best_dev": best["scores"],
        "dev_regression": dev_regression,
        "recovered_dev": dev_gain / dev_regression,
        "test_regression_seed42": test_regression,
        "recovered_test_seed42": test_gain / test_regression,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/research-demo"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "research-demo")
    parser.add_argument("--max-experiments", type=int, default=24)
    args = parser.parse_args()
    repo = make_repo(args.work)
    detuned = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    _run([*GIT, "checkout", "-q", "--detach", "HEAD~1"], repo)
    _run(_harness("research", "init", "--tag", "tuned"), repo)
    _run([*GIT, "checkout", "-q", "--detach", detuned], repo)
    _run(_harness("research", "init", "--tag", "demo"), repo)
    _run(_harness("research", "run", "--tag", "demo", "--proposer", "offline",
                  "--max-experiments", str(args.max_experiments)), repo)  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    _run(_harness("research", "report", "--tag", "demo", "--out", str(args.out.resolve())), repo)
    shutil.copy(repo / ".harness" / "research" / "demo" / "results.tsv", args.out / "results.tsv")
    summary = recovery(repo)
    (args.out / "recovery.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
