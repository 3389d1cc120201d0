"""The offline proposer: a search over declared config knobs that needs no API key.

Each knob is a field default in ``nanochat/config.py`` (or one element of a tuple default such as
``adam_betas``). A proposal moves one knob from the current best, edits exactly that default in
the source (the rest of the file is untouched) and names the whole resulting config point, so a
point already tried is never proposed again, whatever path led to it.

Order of attempts:

1. open ideas that are ``field = value`` assignments, highest priority first;
2. ``local`` strategy: one knob at a time, by the ledger's evidence. A direction that gained before
   (even too little to keep) is tried first, untried directions next, directions that lost last;
   a log knob steps x2 or /2, a log1m knob (a momentum or beta) halves or doubles 1 - value, a
   linear one steps a tenth of its range, and a step already tried at this point is halved (twice
   at most);
3. ``explore`` strategy (after a plateau): larger steps (x4, a quarter of the range) and pairs of
   knobs that each gained, in a seeded random order, so the search leaves the neighbourhood.

It returns None when no untried point is left near the best.
"""

from __future__ import annotations

import ast
import json
import math
import random
from collections.abc import Iterable, Sequence

from harness.errors import HarnessError
from harness.research.ideas import assignments
from harness.research.proposal import Proposal, ProposalContext
from harness.research.settings import CONFIG_MODULE, Knob, ResearchSettings

LOCAL_STEPS = (1.0, 0.5, 0.25)  # fractions of the base step tried in turn at one point
EXPLORE_STEPS = (2.0, 3.0)
LOG_BASE_FACTOR = 2.0  # a log knob's base step multiplies or divides by this
LINEAR_BASE_FRACTION = 0.1  # a linear knob's base step is this fraction of its range


class KnobError(HarnessError):
    """A knob names no (or more than one) field default in the config module: exit 2."""


def _field_sites(tree: ast.Module, field: str) -> list[ast.expr]:
    sites = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                is_field = isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                if is_field and stmt.target.id == field and stmt.value is not None:
                    sites.append(stmt.value)
    return sites


def _site(source: str, knob: Knob) -> ast.expr:
    sites = _field_sites(ast.parse(source), knob.field)
    if len(sites) != 1:
        found = "no" if not sites else f"{len(sites)}"
        raise KnobError(
            f"{CONFIG_MODULE}: knob {knob.field!r} matches {found} field defaults; "
            "name a field declared once in [[tool.harness.research.knobs]]"
        )
    node = sites[0]
    if knob.index >= 0:
        if not isinstance(node, ast.Tuple) or knob.index >= len(node.elts):
            raise KnobError(
                f"{CONFIG_MODULE}: knob {knob.name}: {knob.field} is not a tuple that long"
            )
        node = node.elts[knob.index]
    return node


def read_value(source: str, knob: Knob):
    try:
        return ast.literal_eval(_site(source, knob))
    except ValueError as err:
        raise KnobError(f"{CONFIG_MODULE}: knob {knob.name}: the default is not a literal") from err


def read_point(source: str, knobs: Iterable[Knob]) -> dict:
    return {knob.name: read_value(source, knob) for knob in knobs}


def write_value(source: str, knob: Knob, value) -> str:
    """``source`` with the knob's default literal replaced by ``value``, nothing else touched."""
    node = _site(source, knob)
    lines = source.splitlines(keepends=True)
    # ast offsets are UTF-8 byte columns
    start = sum(len(x.encode()) for x in lines[: node.lineno - 1]) + node.col_offset
    end = sum(len(x.encode()) for x in lines[: node.end_lineno - 1]) + node.end_col_offset
    raw = source.encode()
    return (raw[:start] + repr(value).encode() + raw[end:]).decode()


def _rounded(knob: Knob, value: float, like) -> object:
    value = min(max(value, knob.min), knob.max)
    if isinstance(like, int) and not isinstance(like, bool):
        return int(round(value))
    return float(f"{value:.3g}") if knob.scale == "log" else round(value, 4)  # stable fingerprints


def _step(knob: Knob, value, direction: int, size: float):
    if knob.values:
        choices = list(knob.values)
        position = choices.index(value) if value in choices else 0
        target = position + direction * max(1, round(size))
        return choices[target] if 0 <= target < len(choices) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if knob.scale == "log":
        moved = value * LOG_BASE_FACTOR ** (direction * size) if value > 0 else knob.min
    elif knob.scale == "log1m":  # momentum-like: 1 - value halves or doubles
        moved = 1 - (1 - value) * LOG_BASE_FACTOR ** (-direction * size) if value < 1 else knob.max
    else:
        moved = value + direction * size * LINEAR_BASE_FRACTION * (knob.max - knob.min)
    moved = _rounded(knob, moved, value)
    return None if moved == value else moved


def _evidence(history: Sequence[dict]) -> dict[tuple[str, int], float]:
    """(knob, direction) -> the best gain a one-knob move in that direction has shown."""
    found: dict[tuple[str, int], float] = {}
    for record in history:
        move, gain = record.get("move"), (record.get("decision") or {}).get("gain")
        if not move or not isinstance(gain, int | float):
            continue
        try:
            direction = 1 if move["to"] > move["from"] else -1
        except TypeError:
            direction = 1
        key = (move["knob"], direction)
        found[key] = max(found.get(key, -math.inf), gain)
    return found


def point_key(point: dict) -> str:
    return json.dumps(point, sort_keys=True, default=str)


class OfflineProposer:
    name = "offline"
    is_cheap = True  # proposes in microseconds: the loop serialises its proposals across workers

    def __init__(self, settings: ResearchSettings, seed: int = 0):
        self.knobs = settings.knobs
        self.rng = random.Random(seed)
        self.stopped_reason = ""

    def propose(self, context: ProposalContext) -> Proposal | None:
        source = (context.root / CONFIG_MODULE).read_text(encoding="utf-8")
        current = read_point(source, self.knobs)
        tried = {point_key(r["point"]) for r in context.history if r.get("point")}
        tried.add(point_key(current))
        for proposal in self._from_ideas(source, current, context.ideas, tried):
            return proposal
        moves = self._moves(current, context.history, context.strategy)
        for changes, label in moves:
            point = {**current, **changes}
            if point_key(point) in tried:
                continue
            return self._proposal(source, current, changes, label, context.strategy)
        self.stopped_reason = "the offline search has tried every point near the best"
        return None

    def _from_ideas(self, source, current, ideas, tried) -> Iterable[Proposal]:
        by_name = {k.name: k for k in self.knobs}
        for idea in ideas:
            wanted = assignments(idea["text"])
            if not wanted:
                continue
            changes = {}
            for name, value in wanted.items():
                if name in by_name:
                    changes[name] = value
                elif name in {k.field for k in self.knobs} and isinstance(value, tuple):
                    for knob in self.knobs:
                        if knob.field == name and knob.index < len(value):
                            changes[knob.name] = value[knob.index]
            if changes and point_key({**current, **changes}) not in tried:
                label = f"idea {idea['id']}: {idea['text']}"
                yield self._proposal(source, current, changes, label, "idea", idea["id"])

    def _moves(self, current: dict, history: Sequence[dict], strategy: str):
        evidence = _evidence(history)
        ranked = []
        for order, knob in enumerate(self.knobs):
            for direction in (1, -1):
                gain = evidence.get((knob.name, direction))
                rank = 0 if gain is not None and gain > 0 else 1 if gain is None else 2
                ranked.append((rank, -(gain or 0.0), order, -direction, direction, knob))
        ranked.sort(key=lambda item: item[:4])
        if strategy == "explore":
            self.rng.shuffle(ranked)
            for size in EXPLORE_STEPS:
                for *_, direction, knob in ranked:
                    moved = _step(knob, current[knob.name], direction, size)
                    if moved is not None:
                        yield {knob.name: moved}, f"{knob.name} {current[knob.name]} -> {moved}"
            winners = [(k, d) for (k, d), g in evidence.items() if g > 0]
            by_name = {k.name: k for k in self.knobs}
            for i, (first, d1) in enumerate(winners):
                for second, d2 in winners[i + 1 :]:
                    if first == second or first not in by_name or second not in by_name:
                        continue
                    a = _step(by_name[first], current[first], d1, 1.0)
                    b = _step(by_name[second], current[second], d2, 1.0)
                    if a is not None and b is not None:
                        yield {first: a, second: b}, f"{first} -> {a} and {second} -> {b}"
        for size in LOCAL_STEPS:
            for *_, direction, knob in ranked:
                moved = _step(knob, current[knob.name], direction, size)
                if moved is not None:
                    yield {knob.name: moved}, f"{knob.name} {current[knob.name]} -> {moved}"

    def _proposal(self, source, current, changes, label, strategy, idea="") -> Proposal:
        by_name = {k.name: k for k in self.knobs}
        text = source
        for name, value in changes.items():
            text = write_value(text, by_name[name], value)
        point = {**current, **changes}
        move = None
        if len(changes) == 1:
            ((name, value),) = changes.items()
            move = {"knob": name, "from": current[name], "to": value}
        hypothesis = (
            "the earlier gain in this direction continues"
            if strategy != "explore"
            else "a larger step leaves the local optimum"
        )
        return Proposal(
            edits={CONFIG_MODULE: text},
            description=label,
            hypothesis=hypothesis,
            point=point,
            idea=idea,
            strategy=strategy,
            move=move,
        )
