"""One experiment, start to end: propose, check the surface, commit, gate, train, score, decide.

The order is the cost order: everything that can refuse a proposal without training does so
first (surface, duplicates, an empty change, the fast gates under the research base's pinned
policy), and each refusal is a ``reject`` record whose reason goes back to the proposer. Training
and scoring happen in a launcher slot (``trial.run_trial``). A trial that crashed, timed out, went
NaN or ran out of memory is a ``crash``; one whose canaries fired (it read validation data,
looked at future tokens, faked its summary, or the sealed data changed) is a ``reject``. The
worktree is always reset to the best afterwards, so a failed experiment leaves nothing behind.

A keep is decided under the ledger lock: the record is written first, then the research branch
moves by compare-and-swap. When another worker kept something meanwhile, the change is replayed
on the new best and measured again before it can be kept.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.check import CheckRequest, run_check
from harness.errors import HarnessError
from harness.report.text import finding_line
from harness.research import worktree as wt
from harness.research.ideas import IDEA_FATES, open_ideas, read_ideas
from harness.research.lab import SCREEN_SEED, Lab, depth_of
from harness.research.ledger import visible_to_proposers
from harness.research.noise import decide
from harness.research.proposal import Proposal, ProposalContext, Proposer
from harness.research.surface import edits_problem
from harness.research.trial import TrialResult

FAST_GATES = ("format", "ruff", "rules", "protected", "architecture")
CANARY_STATUSES = ("leak", "acausal", "fake-summary", "tamper")
MAX_DIFF_CHARS = 20_000
MAX_REPLAYS = 2  # times a keep is replayed on a best that moved before giving up


@dataclass
class Worker:
    index: int
    tree: wt.Worktree
    feedback: str = ""
    runs: int = 0

    @property
    def name(self) -> str:
        return f"w{self.index}"


@dataclass
class Outcome:
    record: dict | None  # None: the proposer had nothing left
    stopped_reason: str = ""  # why the proposer stopped (the record carries the timings)


def fast_gates(tree: wt.Worktree, base_commit: str) -> dict:
    """The fast gates plus architecture and protected, with the base's pinned policy."""
    started = time.perf_counter()
    try:
        report = run_check(
            tree.path, CheckRequest(gates=FAST_GATES, base=base_commit), cwd=tree.path
        )
    except HarnessError as err:
        return {"ok": False, "findings": [str(err)], "seconds": time.perf_counter() - started}
    findings = [finding_line(f) for f in report.failing()]
    return {"ok": report.ok, "findings": findings, "seconds": time.perf_counter() - started}


def strategy(lab: Lab) -> str:
    """``explore`` once the last ``plateau`` experiments kept nothing, else ``local``."""
    experiments = lab.ledger.records("experiment")
    recent = experiments[-lab.settings.plateau :]
    is_plateau = len(recent) >= lab.settings.plateau and not any(
        r.get("status") == "keep" for r in recent
    )
    return "explore" if is_plateau else "local"


def _context(lab: Lab, worker: Worker, best: dict, check) -> ProposalContext:
    records = lab.ledger.records()
    history = [visible_to_proposers(r) for r in records if r.get("kind") == "experiment"]
    history += [r for w, r in list(lab.in_flight.items()) if w != worker.index]
    ideas = open_ideas(read_ideas(lab.root / lab.settings.ideas), records)
    by_commit = {r.get("commit"): r.get("diff", "") for r in history}
    return ProposalContext(
        root=worker.tree.path,
        settings=lab.settings,
        history=history,
        best=visible_to_proposers(best),
        ideas=ideas,
        strategy=strategy(lab),
        feedback=worker.feedback,
        sealed=tuple(lab.meta["sealed"]),
        diff_of=lambda commit: by_commit.get(commit, ""),
        check=check,
    )


def _checker(lab: Lab, worker: Worker, best_commit: str) -> Callable[[dict[str, str]], list[str]]:
    """The proposers' ``run_checks`` tool: surface and fast gates on edits, then a clean tree."""
    sealed = lab.meta["sealed"]

    def check(edits: dict[str, str]) -> list[str]:
        problem = edits_problem(worker.tree.path, edits, lab.settings.surface, sealed)
        if problem:
            return [problem]
        try:
            for path, text in edits.items():
                (worker.tree.path / path).write_text(text, encoding="utf-8")
            gates = fast_gates(worker.tree, lab.base_commit)
        finally:
            worker.tree.reset(best_commit)
        return gates["findings"] or ["all fast checks pass"]

    return check


def _trial(lab: Lab, launcher, worker: Worker, seed: int, label: str, depth=None) -> TrialResult:
    worker.runs += 1
    name = f"{worker.name}-{int(time.time())}-{worker.runs:04d}-{label}-seed{seed}"
    return lab.submit_trial(launcher, worker.tree.path, seed, name, depth).result()


def run_experiment(lab: Lab, worker: Worker, proposer: Proposer, launcher) -> Outcome:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    best = lab.best()
    worker.tree.reset(best["commit"])
    # a cheap proposer proposes under the lab's lock, so two workers never pick the same point
    serial = lab.proposing if getattr(proposer, "is_cheap", False) else contextlib.nullcontext()
    with serial:
        context = _context(lab, worker, best, _checker(lab, worker, best["commit"]))
        proposal = proposer.propose(context)
        if proposal is not None:
            lab.in_flight[worker.index] = {
                "kind": "experiment", "status": "running", "worker": worker.index,
                "point": proposal.point, "move": proposal.move,
                "fingerprint": proposal.fingerprint(worker.tree.path),
                "description": proposal.description,
            }  # fmt: skip
    timings["propose_s"] = time.perf_counter() - started
    if proposal is None:
        reason = getattr(proposer, "stopped_reason", "") or "the proposer stopped"
        usage = getattr(proposer, "last_usage", None)
        if usage is not None and usage.requests:  # what the failed conversation cost still counts
            lab.ledger.append({"kind": "proposer", "worker": worker.index, "reason": reason,
                               "usage": usage.as_dict()})  # fmt: skip
        return Outcome(None, reason)

    def finish(record: dict) -> dict:
        """Time and write the record (and move the branch for a keep); under the ledger lock."""
        timings["total_s"] = time.perf_counter() - started
        record["timings"] = {**record.get("timings", {}), **timings}
        return _write(lab, record)

    record = _base_record(worker, best, proposal, context.strategy, proposer.name)
    try:
        record = _judge(lab, worker, launcher, proposal, best, record, timings, finish)
    finally:
        lab.in_flight.pop(worker.index, None)
        worker.tree.reset(lab.best()["commit"])
    if "id" not in record:
        record = finish(record)
    worker.feedback = (
        "" if record["status"] == "keep" else f"{record['description']}: {record['reason']}"
    )
    if proposal.idea:
        lab.ledger.append({
            "kind": "idea", "idea": proposal.idea, "status": IDEA_FATES[record["status"]],
            "experiment": record["id"],
        })  # fmt: skip
    return Outcome(record)


def _base_record(
    worker: Worker, best: dict, proposal: Proposal, strategy_name: str, proposer: str
) -> dict:
    return {
        "kind": "experiment",
        "worker": worker.index,
        "proposer": proposer,
        "parent": best["commit"],
        "commit": "",
        "status": "reject",
        "reason": "",
        "description": " ".join(proposal.description.split())[:200] or "(no description)",
        "hypothesis": proposal.hypothesis,
        "point": proposal.point,
        "move": proposal.move,
        "idea": proposal.idea,
        "strategy": proposal.strategy or strategy_name,
        "usage": proposal.usage.as_dict(),
        "paths": sorted(proposal.edits),
    }


def _judge(lab, worker, launcher, proposal, best, record, timings, finish) -> dict:
    t0 = time.perf_counter()
    problem = edits_problem(
        worker.tree.path, proposal.edits, lab.settings.surface, lab.meta["sealed"]
    )
    if problem:
        return {**record, "reason": f"refused before running: {problem}"}
    fingerprint = proposal.fingerprint(worker.tree.path)
    record["fingerprint"] = fingerprint
    earlier = next(
        (r for r in lab.ledger.records("experiment") if r.get("fingerprint") == fingerprint), None
    )
    running = next(
        (
            r
            for w, r in list(lab.in_flight.items())
            if w != worker.index and r["fingerprint"] == fingerprint
        ),
        None,
    )
    if earlier is None and running is not None:
        return {
            **record,
            "reason": f"refused without a run: worker w{running['worker']} is running the same change",
        }
    if earlier is not None:
        return {
            **record,
            "reason": f"refused without a run: the same change as {earlier['id']} ({earlier['status']})",
        }
    commit = worker.tree.commit(proposal.edits, f"research: {record['description']}")
    if not commit:
        return {**record, "reason": "refused: the proposal leaves every file as it was"}
    record["commit"] = commit
    record["diff"] = wt.diff(lab.root, best["commit"], commit)[:MAX_DIFF_CHARS]
    record["lines_added"] = wt.lines_added(lab.root, best["commit"], commit)
    timings["commit_s"] = time.perf_counter() - t0
    gates = fast_gates(worker.tree, lab.base_commit)
    record["gates"] = gates
    timings["gates_s"] = gates["seconds"]
    if not gates["ok"]:
        shown = "; ".join(gates["findings"][:3]) or "a gate failed"
        return {**record, "reason": f"fast gates failed: {shown}"}
    return _measure(lab, worker, launcher, record, best, finish)


def _measure(lab: Lab, worker: Worker, launcher, record: dict, best: dict, finish) -> dict:
    """Screen at the first seed, confirm at the second, replay on a best that moved meanwhile."""
    settings = lab.settings
    seeds = [SCREEN_SEED] + ([SCREEN_SEED + 1] if settings.confirm else [])
    for _ in range(MAX_REPLAYS + 1):
        scores, runs = {}, []
        decision = None
        for seed in seeds:
            result = _trial(lab, launcher, worker, seed, "screen" if not scores else "confirm")
            runs.append(result)
            failed = _failed(record, result)
            if failed is not None:
                return _with_runs(failed, runs)
            scores[seed] = result.score
            confirm = seeds[1] if len(seeds) > 1 else None
            decision = decide(
                settings.objective, scores, best["scores"], lab.floor,
                record["lines_added"], settings.simplicity_per_line, confirm,
            )  # fmt: skip
            if not decision.needs_confirm:
                break
        record = _with_runs({**record, "scores": {str(s): v for s, v in scores.items()}}, runs)
        record.update(
            score=scores[SCREEN_SEED], decision=decision.as_dict(), reason=decision.reason
        )
        if not decision.keep:
            return {**record, "status": "discard"}
        with lab.ledger.locked():
            current = lab.best()
            if current["commit"] == best["commit"]:
                return finish(
                    {**record, "status": "keep", "_move_branch": (record["commit"], best["commit"])}
                )
        # another worker kept something: replay this change on the new best and measure again
        worker.tree.reset(current["commit"])
        replayed = worker.tree.cherry_pick(record["commit"])
        if not replayed:
            return {
                **record,
                "status": "discard",
                "reason": f"conflicts with {current['id']}, kept meanwhile",
            }
        record.update(parent=current["commit"], commit=replayed, replayed=True)
        record["diff"] = wt.diff(lab.root, current["commit"], replayed)[:MAX_DIFF_CHARS]
        if not record["diff"]:
            return {
                **record,
                "status": "discard",
                "reason": f"{current['id']}, kept meanwhile, holds this change already",
            }
        best = current
    return {**record, "status": "discard", "reason": "the best kept moving; gave up replaying"}


def _failed(record: dict, result: TrialResult) -> dict | None:
    if result.status == "ok":
        return None
    status = "reject" if result.status in CANARY_STATUSES else "crash"
    return {**record, "status": status, "reason": f"{result.status}: {result.reason}"}


def _with_runs(record: dict, runs: list[TrialResult]) -> dict:
    last = runs[-1]
    record = {**record, "runs": [r.as_dict() for r in runs]}
    record.update(
        memory_gb=last.memory_gb,
        metrics=last.metrics,
        secondary=last.secondary,
        test_score=runs[0].test_score,
        timings={
            "train_s": sum(r.timings.get("train_s") or 0.0 for r in runs),
            "eval_s": sum(r.timings.get("eval_s") or 0.0 for r in runs),
            "training_seconds": sum(r.timings.get("training_seconds") or 0.0 for r in runs),
        },
    )
    if record.get("status") in ("crash", "reject"):
        record.setdefault("score", None)
    return record


def _write(lab: Lab, record: dict) -> dict:
    """Append the record, then (for a keep) move the research branch: a kill in between is
    repaired by ``loop.sync_branch``, which points the branch at the ledger's best."""
    move = record.pop("_move_branch", None)
    with lab.ledger.locked():
        written = lab.ledger.append(record)
        if move is not None:
            new, old = move
            if not wt.move_branch(lab.root, lab.branch, new, old):
                wt.move_branch(lab.root, lab.branch, new, wt.branch_tip(lab.root, lab.branch))
    return written


def scale_check(lab: Lab, worker: Worker, launcher) -> dict:
    """Re-measure the base and the current best at the scale depth, same seed; record it."""
    depth = lab.settings.scale_depth or depth_of(lab.settings.train_args) + 2
    best = lab.best()
    scores = {}
    for name, commit in (("base", lab.base_commit), ("stack", best["commit"])):
        worker.tree.reset(commit)
        result = _trial(lab, launcher, worker, SCREEN_SEED, f"scale-{name}", depth)
        scores[name] = result.score if result.status == "ok" else None
    worker.tree.reset(best["commit"])
    gain = None
    if scores["base"] is not None and scores["stack"] is not None:
        gain = lab.settings.objective.gain(scores["stack"], scores["base"])
    return lab.ledger.append({
        "kind": "scale", "depth": depth, "commit": best["commit"], "base_score": scores["base"],
        "stack_score": scores["stack"], "gain": gain, "margin": lab.floor.margin,
        "transfers": gain is not None and gain > 0,
    })  # fmt: skip
