"""What a proposer is given and what it returns; one protocol for the LLM and the offline search.

A ``Proposal`` carries whole new file texts for the paths it changes (never a patch to apply
fuzzily), a one-line description, a hypothesis and, for the offline search, the config point it
tries. ``fingerprint`` identifies equivalent proposals: the same files with the same syntax trees
(comments and formatting do not count) are one proposal, and a proposal that sets the same config
point is the same as an earlier one at that point.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.research.settings import ResearchSettings


@dataclass(frozen=True)
class Usage:
    """What producing a proposal cost: API tokens and dollars (zero for the offline search)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    usd: float = 0.0
    requests: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            *(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__)  # type: ignore[arg-type]
        )

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass(frozen=True)
class Proposal:
    edits: dict[str, str]  # repo-relative POSIX path -> the file's whole new text
    description: str  # one line, shown in results.tsv
    hypothesis: str = ""
    point: dict = field(default_factory=dict)  # config knob -> value (offline search)
    move: dict | None = None  # {"knob", "from", "to"} when one knob moved (offline search)
    idea: str = ""  # id of the idea from the ideas file this tries
    strategy: str = ""  # which search strategy produced it
    usage: Usage = field(default_factory=Usage)

    def fingerprint(self, root: Path) -> str:
        """Equal for equivalent proposals (see the module docstring)."""
        if self.point:
            return "point:" + _digest(json.dumps(self.point, sort_keys=True, default=str))
        parts = []
        for path in sorted(self.edits):
            parts.append(f"{path}\0{normalized_source(self.edits[path])}")
        return "edit:" + _digest("\0\0".join(parts))


def normalized_source(text: str) -> str:
    """The syntax tree of Python source (comments and layout dropped); other text as is."""
    try:
        return ast.dump(ast.parse(text))
    except (SyntaxError, ValueError):
        return text


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ProposalContext:
    """Everything a proposer may read; test-split scores are never in ``history``."""

    root: Path  # the worker's worktree, checked out at the current best
    settings: ResearchSettings
    history: Sequence[dict]  # ledger records (experiments), oldest first, test scores removed
    best: dict  # the record of the current best (the baseline until something is kept)
    ideas: Sequence[dict]  # open ideas, highest priority first: {"id", "text", "priority"}
    strategy: str  # "local" until a plateau, then "explore"
    feedback: str = ""  # why this worker's previous proposal was rejected, if it was
    sealed: Sequence[str] = ()  # the research base's sealed globs (never editable)
    diff_of: Callable[[str], str] = lambda commit: ""  # a past experiment's diff
    check: Callable[[dict[str, str]], list[str]] = lambda edits: []  # fast checks on edits


class Proposer(Protocol):
    name: str

    def propose(self, context: ProposalContext) -> Proposal | None:
        """A change to try, or None when this proposer has nothing left to try."""
        ...
