"""A research tag's state, read from its ledger: paths, settings, the best so far, trial specs.

``Lab`` is what every research command works on. It knows where the tag lives
(``.harness/research/<tag>/``), the settings fixed at ``init`` (kept in ``meta.json``, so a later
edit of pyproject.toml cannot move the goalposts of a running search), the noise floor, and how to
turn (commit tree, seed, depth) into a ``TrialSpec``. The current best is derived from the ledger:
the last kept experiment, else the baseline, whose scores per seed are the baseline runs.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.research.ledger import Ledger
from harness.research.noise import NoiseFloor
from harness.research.settings import Knob, Objective, ResearchSettings
from harness.research.trial import TrialResult, TrialSpec, run_trial

RESEARCH_DIR = ".harness/research"
SCREEN_SEED = 42  # the trainer's default seed; the confirming run uses the next one
TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def tag_dir(root: Path, tag: str) -> Path:
    if not TAG.match(tag):
        raise HarnessError(f"--tag {tag!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    return root / RESEARCH_DIR / tag


def latest_tag(root: Path) -> str:
    """The most recently initialised tag; HarnessError when there is none."""
    folder = root / RESEARCH_DIR
    tags = sorted(
        (p for p in folder.glob("*/meta.json")), key=lambda p: p.stat().st_mtime, reverse=True
    )
    if not tags:
        raise HarnessError(f"{folder}: no research tag yet; run `harness research init --tag TAG`")
    return tags[0].parent.name


def settings_to_meta(settings: ResearchSettings) -> dict:
    return dataclasses.asdict(settings)


def settings_from_meta(raw: dict) -> ResearchSettings:
    raw = dict(raw)
    raw["objective"] = Objective(**raw["objective"])
    raw["knobs"] = tuple(
        Knob(**{**k, "values": tuple(tuple(v) if isinstance(v, list) else v for v in k["values"])})
        for k in raw["knobs"]
    )
    for key in ("surface", "train_args"):
        raw[key] = tuple(raw[key])
    return ResearchSettings(**raw)


def with_depth(args: tuple[str, ...], depth: int) -> tuple[str, ...]:
    """Trainer flags with ``--depth`` set to ``depth`` (replaced when present)."""
    out, skip = [], False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "--depth" and i + 1 < len(args):
            skip = True
            continue
        if not arg.startswith("--depth="):
            out.append(arg)
    return (*out, "--depth", str(depth))


def depth_of(args: tuple[str, ...]) -> int:
    for i, arg in enumerate(args):
        if arg == "--depth" and i + 1 < len(args):
            return int(args[i + 1])
        if arg.startswith("--depth="):
            return int(arg.split("=", 1)[1])
    from nanochat.config import ModelConfig

    return ModelConfig().depth


def run_in_slot(spec: TrialSpec, slot) -> TrialResult:
    """The job a launcher runs: the trial on the slot's device (module level, so it pickles)."""
    return run_trial(dataclasses.replace(spec, env=(*spec.env, *slot.env), device=slot.device))


@dataclass
class Lab:
    root: Path
    tag: str
    ledger: Ledger
    settings: ResearchSettings
    # what this process's workers are running now (worker index -> a "running" record), so a
    # proposer does not pick what another worker is already measuring
    in_flight: dict = field(default_factory=dict)
    proposing: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, root: Path, tag: str | None) -> Lab:
        tag = tag or latest_tag(root)
        ledger = Ledger.open(tag_dir(root, tag))
        return cls(root, tag, ledger, settings_from_meta(ledger.meta["settings"]))

    @property
    def meta(self) -> dict:
        return self.ledger.meta

    @property
    def directory(self) -> Path:
        return self.ledger.directory

    @property
    def branch(self) -> str:
        return f"research/{self.tag}"

    @property
    def base_commit(self) -> str:
        return self.meta["base_commit"]

    @functools.cached_property
    def floor(self) -> NoiseFloor:
        return NoiseFloor(**{**self.meta["noise"], "scores": tuple(self.meta["noise"]["scores"])})

    def worktree_path(self, name: str) -> Path:
        return self.directory / "worktrees" / name

    def spec(self, tree: Path, seed: int, run_name: str, depth: int | None = None) -> TrialSpec:
        args = self.settings.train_args
        if depth is not None:
            args = with_depth(args, depth)
        return TrialSpec(
            tree=str(tree),
            run_dir=str(self.directory / "runs" / run_name),
            seed=seed,
            budget_s=self.settings.budget_s,
            num_steps=self.settings.num_steps,
            train_args=tuple(args),
            timeout_s=self.settings.timeout_s,
            objective=self.settings.objective,
            pinned_dir=str(self.directory / "pinned"),
            dev_tokens=self.settings.dev_tokens,
            test_tokens=self.settings.test_tokens,
        )

    def submit_trial(
        self, launcher, tree: Path, seed: int, run_name: str, depth: int | None = None
    ):
        """Start the trial of ``tree`` on a launcher slot; returns the launcher's handle."""
        spec = self.spec(tree, seed, run_name, depth)
        return launcher.submit(functools.partial(run_in_slot, spec))

    def best(self) -> dict:
        """``{"commit", "scores": {seed: score}, "score", "test_score", "id"}`` of the best so far."""
        kept = [r for r in self.ledger.records("experiment") if r.get("status") == "keep"]
        if kept:
            last = kept[-1]
            scores = {int(s): v for s, v in last["scores"].items()}
            return {
                "commit": last["commit"], "scores": scores, "score": last["score"],
                "test_score": last.get("test_score"), "id": last["id"],
                "description": last.get("description", ""),
            }  # fmt: skip
        baseline = [r for r in self.ledger.records("baseline") if r.get("status") == "keep"]
        scores = {int(r["seed"]): r["score"] for r in baseline}
        at_screen = scores.get(SCREEN_SEED, self.floor.mean)
        tests = [r["test_score"] for r in baseline if r.get("test_score") is not None]
        return {
            "commit": self.base_commit, "scores": scores, "score": at_screen,
            "test_score": tests[0] if tests else None, "id": "baseline", "description": "baseline",
        }  # fmt: skip
