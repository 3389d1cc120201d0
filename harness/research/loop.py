"""``research init`` and ``research run``: the baseline and the noise floor, then the workers.

``init`` creates the branch ``research/<tag>`` at HEAD, the tag's folder, a pinned copy of the
base's evaluator and data facts (``pinned/``), and trains the base at ``seeds`` seeds through the
launcher. Their scores are the noise floor; the settings are frozen into ``meta.json``.

``run`` starts one worker thread per launcher slot, each with its own worktree. Workers share the
ledger (and see each other's results at their next proposal) and stop when the ledger holds
``max_experiments`` experiments, when the proposer has nothing left, or on Ctrl-C. Every
``scale_every`` keeps, the worker that kept re-measures the stack at a larger depth. Because the
ledger is the only state, a killed run resumes by running again: the branch is re-pointed at the
ledger's best and the worktrees are reset to it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from harness import git
from harness.errors import HarnessError
from harness.policy import load_policy
from harness.research import dataview
from harness.research import worktree as wt
from harness.research.experiment import Worker, run_experiment, scale_check
from harness.research.lab import SCREEN_SEED, Lab, settings_to_meta, tag_dir
from harness.research.ledger import Ledger
from harness.research.noise import noise_floor
from harness.research.proposal import Proposer
from harness.research.settings import ResearchSettings
from harness.research.surface import check_surface_settings

EventFn = Callable[[str], None]


def init_research(
    root: Path, tag: str, settings: ResearchSettings, launcher, on_event: EventFn = lambda _: None
) -> Lab:
    directory = tag_dir(root, tag)
    branch = f"research/{tag}"
    if (directory / "meta.json").exists() or git.ref_exists(root, f"refs/heads/{branch}"):
        raise HarnessError(
            f"research tag {tag!r} exists ({directory}); pick a new --tag or `harness research run --tag {tag}`"
        )
    if git.changed_files(root, "HEAD"):
        raise HarnessError(f"{root}: uncommitted changes; commit them so the base is exactly HEAD")
    base = git.resolve(root, "HEAD")
    sealed = list(load_policy(root).manifest().globs)
    check_surface_settings(settings.surface, sealed, git.tracked_files(root))
    on_event(f"pinning the evaluator of {base[:10]}")
    pinned = dataview.pin_evaluator(root, base, directory / "pinned", settings.train_args)
    wt.git(root, "branch", branch, base)
    meta = {
        "tag": tag, "branch": branch, "base_commit": base, "created": time.time(),
        "settings": settings_to_meta(settings), "sealed": sealed, "pinned": pinned,
        "objective": {"key": settings.objective.key, "direction": settings.objective.direction},
        "noise": None,
    }  # fmt: skip
    ledger = Ledger.create(directory, meta)
    lab = Lab(root, tag, ledger, settings)
    tree = wt.Worktree.ensure(root, lab.worktree_path("w0"), base)
    seeds = [SCREEN_SEED + i for i in range(settings.seeds)]
    on_event(f"training the baseline at seeds {', '.join(map(str, seeds))}")
    handles = [
        (seed, lab.submit_trial(launcher, tree.path, seed, f"baseline-seed{seed}"))
        for seed in seeds
    ]
    scores = []
    for seed, handle in handles:
        result = handle.result()
        record = {
            "kind": "baseline", "commit": base, "seed": seed, "score": result.score,
            "test_score": result.test_score, "secondary": result.secondary,
            "memory_gb": result.memory_gb, "metrics": result.metrics, "timings": result.timings,
            "status": "keep" if result.status == "ok" else "crash",
            "reason": result.reason, "description": f"baseline seed {seed}",
        }  # fmt: skip
        ledger.append(record)
        if result.status != "ok":
            raise HarnessError(
                f"baseline seed {seed} failed ({result.status}: {result.reason}); fix the base "
                f"and init a new tag (log: {Path(result_log(lab, seed))})"
            )
        scores.append(result.score)
        on_event(f"baseline seed {seed}: {settings.objective.key} {result.score:.6f}")
    floor = noise_floor(scores, settings.sigmas, settings.min_margin)
    ledger.write_meta({**ledger.meta, "noise": floor.as_dict()})
    on_event(
        f"noise floor: mean {floor.mean:.6f}, stdev {floor.stdev:.6f}, MAD {floor.mad:.6f}, "
        f"margin {floor.margin:.6f}"
    )
    return lab


def result_log(lab: Lab, seed: int) -> Path:
    return lab.directory / "runs" / f"baseline-seed{seed}" / "train.log"


def sync_branch(lab: Lab) -> str:
    """Point the research branch at the ledger's best (a kill may have left it behind)."""
    best = lab.best()["commit"]
    tip = wt.branch_tip(lab.root, lab.branch)
    if tip != best:
        wt.move_branch(lab.root, lab.branch, best, tip)
    return best


def run_research(
    lab: Lab,
    make_proposer: Callable[[int], Proposer],
    launcher,
    max_experiments: int | None,
    on_event: EventFn = lambda _: None,
) -> dict:
    """Run workers until done; returns ``{"experiments", "keeps", "stopped"}`` for this run."""
    if lab.meta.get("noise") is None:
        raise HarnessError(f"{lab.directory}: the baseline never finished; init a new tag")
    best = sync_branch(lab)
    workers = [
        Worker(i, wt.Worktree.ensure(lab.root, lab.worktree_path(f"w{i}"), best))
        for i in range(launcher.slots)
    ]
    stop = threading.Event()
    state = {"experiments": 0, "keeps": 0, "stopped": ""}
    counter = threading.Lock()
    errors: list[BaseException] = []

    reserved = [0]  # experiments started by this run's workers and not yet in the ledger

    def reserve() -> bool:
        with counter:
            total = len(lab.ledger.records("experiment")) + reserved[0]
            if stop.is_set() or (max_experiments is not None and total >= max_experiments):
                return False
            reserved[0] += 1
            return True

    def release() -> None:
        with counter:
            reserved[0] -= 1

    def work(worker: Worker) -> None:
        proposer = make_proposer(worker.index)
        try:
            while reserve():
                try:
                    outcome = run_experiment(lab, worker, proposer, launcher)
                finally:
                    release()
                if outcome.record is None:
                    state["stopped"] = outcome.stopped_reason
                    stop.set()
                    return
                record = outcome.record
                with counter:
                    state["experiments"] += 1
                    state["keeps"] += record["status"] == "keep"
                on_event(_line(lab, record))
                kept = sum(r["status"] == "keep" for r in lab.ledger.records("experiment"))
                every = lab.settings.scale_every
                if record["status"] == "keep" and every and kept % every == 0:
                    scale = scale_check(lab, worker, launcher)
                    on_event(
                        f"scale check at depth {scale['depth']}: gain {scale['gain']} "
                        f"({'transfers' if scale['transfers'] else 'does not transfer'})"
                    )
        except BaseException as err:  # a harness bug: stop every worker, re-raise in the caller
            errors.append(err)
            stop.set()

    threads = [threading.Thread(target=work, args=(w,), name=w.name, daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)
    except KeyboardInterrupt:
        stop.set()
        state["stopped"] = "interrupted; run again to resume"
        raise
    if errors:
        raise errors[0]
    if not state["stopped"] and max_experiments is not None:
        state["stopped"] = f"the ledger holds {max_experiments} experiments"
    return state


def _line(lab: Lab, record: dict) -> str:
    score = record.get("score")
    shown = f"{score:.6f}" if isinstance(score, int | float) else "-"
    return (
        f"{record['id']} w{record['worker']} {record['status']:<7} {lab.settings.objective.key} "
        f"{shown} | {record['description']} | {record.get('reason', '')}"
    )
