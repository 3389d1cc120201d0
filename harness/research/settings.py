"""The ``[tool.harness.research]`` table: what the research loop may edit, how it trains and judges.

Keys (all optional; defaults fit nanochat)::

    [tool.harness.research]
    surface = ["nanochat/model.py", ...]  # globs a proposal may edit (never sealed files)
    budget-s = 300.0                      # training seconds per run (--time-budget)
    num-steps = -1                        # > 0: a fixed step horizon instead of the budget
    timeout-factor = 2.0                  # hard timeout = budget x this + startup-s
    startup-s = 120.0                     # slack for imports, data and the first steps
    train-args = []                       # extra trainer flags (e.g. ["--depth", "4"])
    seeds = 3                             # baseline seeds that measure the noise floor
    sigmas = 2.0                          # a keep must beat the best by sigmas x noise
    min-margin = 0.0                      # floor on that margin, in objective units
    confirm = true                        # a keep must reproduce with a second seed
    simplicity-per-line = 0.0             # objective units charged per net added line
    plateau = 8                           # experiments without a keep before the strategy changes
    scale-every = 5                       # keeps between scale checks (0 = never)
    scale-depth = 0                       # depth of the scale check (0 = training depth + 2)
    dev-tokens = 65536                    # sealed evaluation: dev split tokens (what decides)
    test-tokens = 65536                   # held-out test split tokens (report only)
    ideas = "research/ideas.md"           # the humans' ideas file
    model = "claude-sonnet-4-5"           # anthropic proposer
    max-usd = 20.0                        # anthropic proposer: spending cap per run
    max-turns = 24                        # anthropic proposer: tool-use turns per proposal

    [tool.harness.research.objective]     # default: val_bpb from the sealed evaluator
    key = "val_bpb"
    direction = "min"                     # or "max"
    command = ""                          # a command printing `key: value` lines instead

    [[tool.harness.research.knobs]]       # the offline proposer's search space
    field = "matrix_lr"                   # a field of nanochat/config.py's dataclasses
    scale = "log"                         # log (x2), log1m (1 - value x2: betas) or linear; or values = [...]
    min = 0.001
    max = 0.3
    index = 0                             # optional: element of a tuple field (adam_betas)

Errors name the key: ``pyproject.toml: [tool.harness.research] budget-s: expected ...`` (exit 2).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import ConfigError, key_line

TABLE = "[tool.harness.research]"
DEFAULT_SURFACE = (
    "nanochat/model.py",
    "nanochat/attention.py",
    "nanochat/optim.py",
    "nanochat/train.py",
    "nanochat/config.py",
)
CONFIG_MODULE = "nanochat/config.py"  # where the offline proposer's knobs live


@dataclass(frozen=True)
class Knob:
    """One dimension of the offline search: a config field (or one element of a tuple field)."""

    field: str
    scale: str = "log"  # log: steps multiply; log1m: steps multiply 1 - value; linear: steps add
    min: float = 0.0
    max: float = 1.0
    values: tuple = ()  # a discrete choice instead of a range
    index: int = -1  # >= 0: the element of a tuple-valued field

    @property
    def name(self) -> str:
        return self.field if self.index < 0 else f"{self.field}[{self.index}]"


DEFAULT_KNOBS = (
    Knob("matrix_lr", "log", 0.002, 0.2),
    Knob("embedding_lr", "log", 0.01, 3.0),
    Knob("unembedding_lr", "log", 0.0004, 0.04),
    Knob("scalar_lr", "log", 0.05, 2.0),
    Knob("adam_betas", "log1m", 0.5, 0.99, index=0),
    Knob("adam_betas", "log1m", 0.5, 0.999, index=1),
    Knob("weight_decay", "linear", 0.0, 0.5),
    Knob("warmdown_ratio", "linear", 0.0, 0.9),
    Knob("muon_momentum_end", "log1m", 0.8, 0.99),
    Knob("logit_softcap", "linear", 5.0, 30.0),
)


@dataclass(frozen=True)
class Objective:
    """What a run is scored by: ``key`` from the sealed evaluator, or from ``command``'s output."""

    key: str = "val_bpb"
    direction: str = "min"
    command: str = ""  # empty: train, then score with the sealed evaluator

    @property
    def is_sealed(self) -> bool:
        return not self.command

    def gain(self, candidate: float, reference: float) -> float:
        """How much better ``candidate`` is than ``reference`` (positive = better)."""
        return reference - candidate if self.direction == "min" else candidate - reference


@dataclass(frozen=True)
class ResearchSettings:
    surface: tuple[str, ...] = DEFAULT_SURFACE
    budget_s: float = 300.0
    num_steps: int = -1
    timeout_factor: float = 2.0
    startup_s: float = 120.0
    train_args: tuple[str, ...] = ()
    seeds: int = 3
    sigmas: float = 2.0
    min_margin: float = 0.0
    confirm: bool = True
    simplicity_per_line: float = 0.0
    plateau: int = 8
    scale_every: int = 5
    scale_depth: int = 0
    dev_tokens: int = 65536
    test_tokens: int = 65536
    ideas: str = "research/ideas.md"
    model: str = "claude-sonnet-4-5"
    max_usd: float = 20.0
    max_turns: int = 24
    objective: Objective = field(default_factory=Objective)
    knobs: tuple[Knob, ...] = DEFAULT_KNOBS

    @property
    def timeout_s(self) -> float:
        return self.budget_s * self.timeout_factor + self.startup_s


_SCALARS: dict[str, tuple[str, Any]] = {
    # toml key: (field, type); numbers must be positive unless listed in _MAY_BE_ZERO
    "budget-s": ("budget_s", (int, float)),
    "num-steps": ("num_steps", int),
    "timeout-factor": ("timeout_factor", (int, float)),
    "startup-s": ("startup_s", (int, float)),
    "seeds": ("seeds", int),
    "sigmas": ("sigmas", (int, float)),
    "min-margin": ("min_margin", (int, float)),
    "confirm": ("confirm", bool),
    "simplicity-per-line": ("simplicity_per_line", (int, float)),
    "plateau": ("plateau", int),
    "scale-every": ("scale_every", int),
    "scale-depth": ("scale_depth", int),
    "dev-tokens": ("dev_tokens", int),
    "test-tokens": ("test_tokens", int),
    "ideas": ("ideas", str),
    "model": ("model", str),
    "max-usd": ("max_usd", (int, float)),
    "max-turns": ("max_turns", int),
}
_MAY_BE_ZERO = {"min-margin", "simplicity-per-line", "scale-every", "scale-depth", "num-steps"}
_LISTS = {"surface": "surface", "train-args": "train_args"}
_KNOB_KEYS = {"field", "scale", "min", "max", "values", "index"}
_OBJECTIVE_KEYS = {"key", "direction", "command"}


def load_research_settings(root: Path) -> ResearchSettings:
    """Settings from ``root/pyproject.toml``'s research table (defaults when absent)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return ResearchSettings()
    text = path.read_text(encoding="utf-8")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path.name}: not valid TOML ({err}); fix the file") from err
    table = document.get("tool", {}).get("harness", {}).get("research", {})
    return parse_research_settings(table, text)


def parse_research_settings(table: Mapping[str, Any], text: str = "") -> ResearchSettings:
    """Validate the research table; ``text`` (the file) lets errors carry a line number."""

    def fail(key: str, problem: str, where: str = TABLE) -> ConfigError:
        line = key_line(text, where, key) if text else None
        at = f"pyproject.toml:{line}" if line else "pyproject.toml"
        return ConfigError(f"{at}: {where} {key}: {problem}")

    if not isinstance(table, Mapping):
        raise fail("research", "expected a table")
    known = set(_SCALARS) | set(_LISTS) | {"objective", "knobs"}
    for key in table:
        if key not in known:
            raise fail(key, f"unknown key; expected one of {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key, (name, kind) in _SCALARS.items():
        if key not in table:
            continue
        value = table[key]
        is_bool_mismatch = isinstance(value, bool) != (kind is bool)
        if is_bool_mismatch or not isinstance(value, kind):
            raise fail(key, f"expected {_kind_name(kind)}, got {value!r}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if value < 0 or (value == 0 and key not in _MAY_BE_ZERO):
                if not (key == "num-steps" and value == -1):
                    raise fail(key, f"expected a positive number, got {value!r}")
        values[name] = float(value) if kind == (int, float) else value
    for key, name in _LISTS.items():
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise fail(key, f"expected a list of strings, got {value!r}")
            values[name] = tuple(value)
    if "objective" in table:
        values["objective"] = _objective(table["objective"], fail)
    if "knobs" in table:
        values["knobs"] = _knobs(table["knobs"], fail)
    return ResearchSettings(**values)


def _objective(raw: Any, fail) -> Objective:
    where = "[tool.harness.research.objective]"
    if not isinstance(raw, Mapping):
        raise fail("objective", "expected a table with key, direction and command")
    for key in raw:
        if key not in _OBJECTIVE_KEYS:
            raise fail(key, f"unknown key; expected {', '.join(sorted(_OBJECTIVE_KEYS))}", where)
    objective = Objective(**{k: raw[k] for k in raw})
    if not all(isinstance(getattr(objective, k), str) for k in _OBJECTIVE_KEYS):
        raise fail("key", "key, direction and command must be strings", where)
    if objective.direction not in ("min", "max"):
        raise fail("direction", f"expected min or max, got {objective.direction!r}", where)
    if not objective.key:
        raise fail("key", "must name the `key: value` line that carries the score", where)
    return objective


def _knobs(raw: Any, fail) -> tuple[Knob, ...]:
    where = "[[tool.harness.research.knobs]]"
    if not isinstance(raw, list) or not raw:
        raise fail(
            "knobs", "expected a non-empty array of tables ([[tool.harness.research.knobs]])"
        )
    knobs = []
    for entry in raw:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("field"), str):
            raise fail("field", f"every knob needs a field name, got {entry!r}", where)
        for key in entry:
            if key not in _KNOB_KEYS:
                raise fail(
                    key, f"unknown knob key; expected {', '.join(sorted(_KNOB_KEYS))}", where
                )
        scale = entry.get("scale", "log")
        values = tuple(tuple(v) if isinstance(v, list) else v for v in entry.get("values", ()))
        low, high = entry.get("min", 0.0), entry.get("max", 1.0)
        if scale not in ("log", "log1m", "linear"):
            raise fail(
                "scale",
                f"knob {entry['field']}: expected log, log1m or linear, got {scale!r}",
                where,
            )
        if scale == "log1m" and not values and not high < 1:
            raise fail("max", f"knob {entry['field']}: a log1m knob needs max < 1", where)
        if not values and not (
            isinstance(low, int | float) and isinstance(high, int | float) and low < high
        ):
            raise fail("min", f"knob {entry['field']}: needs min < max, or values = [...]", where)
        if scale == "log" and not values and low <= 0:
            raise fail("min", f"knob {entry['field']}: a log knob needs min > 0", where)
        knobs.append(
            Knob(
                entry["field"], scale, float(low), float(high), values, int(entry.get("index", -1))
            )
        )
    return tuple(knobs)


def _kind_name(kind: Any) -> str:
    if kind is bool:
        return "true or false"
    if isinstance(kind, tuple):
        return "a number"
    return {int: "an integer", str: "a string"}.get(kind, kind.__name__)
