"""The humans' ideas file: one idea per list item, optional priority, tried first by proposers.

Format (markdown; anything that is not a list item is ignored)::

    - [priority 2] matrix_lr = 0.04
    - adam_betas = (0.9, 0.95); unembedding_lr = 0.008
    - try a longer warmdown with a lower final LR

Higher priority comes first; items without one have priority 0 and keep file order. An idea's
id is a digest of its text, so editing the text makes it a new idea. The ledger records each
idea's fate (``tried`` for a rejected or crashed attempt, ``kept``, ``discarded``); an idea with a
recorded fate is closed. The offline proposer acts on ideas made of ``field = value``
assignments; free text is left for the LLM proposer.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

_ITEM = re.compile(r"^\s*[-*]\s+(?:\[priority\s+(-?\d+)\]\s*)?(.+?)\s*$")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_]\w*)(?:\[(\d+)\])?\s*=\s*(.+?)\s*$")
IDEA_FATES = {"keep": "kept", "discard": "discarded", "crash": "tried", "reject": "tried"}


def read_ideas(path: Path) -> list[dict]:
    """Every idea in the file, highest priority first: ``{"id", "text", "priority"}``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    ideas = []
    for line in text.splitlines():
        match = _ITEM.match(line)
        if match:
            body = match.group(2)
            idea_id = "i" + hashlib.sha256(body.encode()).hexdigest()[:8]
            ideas.append({"id": idea_id, "text": body, "priority": int(match.group(1) or 0)})
    return sorted(ideas, key=lambda idea: -idea["priority"])


def open_ideas(ideas: list[dict], records: list[dict]) -> list[dict]:
    """The ideas no ledger record has closed."""
    closed = {r["idea"] for r in records if r.get("kind") == "idea"}
    return [idea for idea in ideas if idea["id"] not in closed]


def assignments(text: str) -> dict[str, object] | None:
    """``{"field" or "field[i]": value}`` when the idea is only assignments, else None."""
    result: dict[str, object] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        match = _ASSIGNMENT.match(part)
        if not match:
            return None
        name, index, raw = match.groups()
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return None
        result[f"{name}[{index}]" if index is not None else name] = value
    return result or None
