"""``research promote --to-depth D``: do the kept changes still help at a larger depth?

At depth D the base is trained at ``seeds`` seeds (its own noise floor there). Then each kept
change is measured twice at the screening and confirming seeds: **alone** (its own diff replayed
on the base) and **stacked** (the kept commit itself, with every keep before it). A change
transfers when its mean paired gain over the base at depth D clears that depth's margin. A change
that no longer applies to the base alone is reported as such. Every measurement is a ``promote``
record, so a report can show which gains were real at scale.
"""

from __future__ import annotations

import statistics

from harness.errors import HarnessError
from harness.research import worktree as wt
from harness.research.lab import SCREEN_SEED, Lab
from harness.research.noise import noise_floor


def promote(lab: Lab, depth: int, launcher, on_event=lambda _: None) -> list[dict]:
    settings = lab.settings
    kept = [r for r in lab.ledger.records("experiment") if r.get("status") == "keep"]
    tree = wt.Worktree.ensure(lab.root, lab.worktree_path("promote"), lab.base_commit)

    def measure(commit: str, seeds: list[int], label: str) -> dict[int, float | None]:
        tree.reset(commit)
        handles = []
        for seed in seeds:
            name = f"promote-d{depth}-{label}-seed{seed}"
            handles.append((seed, lab.submit_trial(launcher, tree.path, seed, name, depth)))
        results = {seed: handle.result() for seed, handle in handles}
        return {s: (r.score if r.status == "ok" else None) for s, r in results.items()}

    base_seeds = [SCREEN_SEED + i for i in range(max(settings.seeds, 2))]
    on_event(f"depth {depth}: training the base at seeds {base_seeds}")
    base = measure(lab.base_commit, base_seeds, "base")
    if any(v is None for v in base.values()):
        raise HarnessError(
            f"the base failed to train at depth {depth}; see {lab.directory / 'runs'}"
        )
    floor = noise_floor(list(base.values()), settings.sigmas, settings.min_margin)
    pair = [SCREEN_SEED, SCREEN_SEED + 1]
    records = []
    for record in kept:
        is_first = record["parent"] == lab.base_commit
        alone = record["commit"] if is_first else _replay_alone(lab, tree, record)
        stacked_scores = measure(record["commit"], pair, f"{record['id']}-stacked")
        if not alone:
            records.append(_record(lab, depth, record, "alone", None, base, floor,
                                   "its diff does not apply to the base alone"))  # fmt: skip
        else:
            # the first keep sits on the base, so alone and stacked are the same commit
            scores = stacked_scores if is_first else measure(alone, pair, f"{record['id']}-alone")
            records.append(_record(lab, depth, record, "alone", scores, base, floor))
        records.append(_record(lab, depth, record, "stacked", stacked_scores, base, floor))
        on_event(_line(records[-2]))
        on_event(_line(records[-1]))
    tree.reset(lab.base_commit)
    return records


def _replay_alone(lab: Lab, tree: wt.Worktree, record: dict) -> str:
    """The kept change's own diff (against its parent) committed on the base; "" if it conflicts."""
    tree.reset(lab.base_commit)
    if not tree.apply_patch(wt.diff(lab.root, record["parent"], record["commit"])):
        return ""
    return tree.commit_staged(f"promote: {record['description']} (alone)")


def _record(lab, depth, kept, mode, scores, base, floor, reason="") -> dict:
    entry = {
        "kind": "promote", "depth": depth, "commit": kept["commit"], "experiment": kept["id"],
        "mode": mode, "description": kept["description"], "margin": floor.margin,
        "base_score": statistics.fmean(base[s] for s in (SCREEN_SEED, SCREEN_SEED + 1)),
        "score": None, "gain": None, "transfers": False, "reason": reason,
    }  # fmt: skip
    if scores and all(v is not None for v in scores.values()):
        gains = [lab.settings.objective.gain(scores[s], base[s]) for s in scores]
        gain = statistics.fmean(gains)
        entry.update(
            score=statistics.fmean(scores.values()),
            gain=gain,
            gains=gains,
            transfers=gain > floor.margin,
        )
    elif scores is not None:
        entry["reason"] = "a run failed at this depth"
    return lab.ledger.append(entry)


def _line(record: dict) -> str:
    gain = f"{record['gain']:+.6f}" if record["gain"] is not None else "-"
    verdict = "transfers" if record["transfers"] else "does not transfer"
    return f"{record['experiment']} {record['mode']:<7} gain {gain} vs margin {record['margin']:.6f}: {verdict} | {record['description']}"
