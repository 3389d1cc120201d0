"""What a Markdown document claims exists: paths, commands, modules and rule codes, with positions.

Backtick spans are classified as a command (``harness ...``, ``make ...``, ``python -m ...``) or
a repo path (has a ``/`` or a known file extension); lines inside fenced code blocks count only
when they are commands. Rule codes (``NC101``) are found anywhere in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["path", "harness", "make", "module", "code"]

PATH_SUFFIXES = (
    ".py", ".pyi", ".md", ".toml", ".json", ".yaml", ".yml", ".txt", ".sh", ".cfg", ".ini",
    ".lock", ".tsv", ".jsonl", ".xml", ".rst", ".in",
)  # fmt: skip
_SPAN = re.compile(r"(`+)(.+?)\1")
_CODE = re.compile(r"\b([A-Z]{2,5}\d{3})\b")
_PYTHON = re.compile(r"^(?:\S*/)?python3?(?:\.\d+)?\s+-m\s+([\w.]+)")
_NOT_A_PATH = re.compile(r"[\s<>{}()\[\]=$@,;|'\"]|^[-~/.]*$|^https?:|^[~/$]|\.\.\.")


@dataclass(frozen=True)
class Mention:
    kind: Kind
    text: str  # the path, the command line, the module or the code
    line: int  # 1-based
    col: int  # 1-based, code points
    options: tuple[str, ...] = ()  # the --flags given to a `python -m` module


def _command(text: str) -> tuple[Kind, str, tuple[str, ...]] | None:
    text = text.strip().removeprefix("$ ").strip()
    python = _PYTHON.match(text)
    if python:
        rest = text[python.end() :].split("#", 1)[0].split()
        options = tuple(
            w.strip("[]").split("=", 1)[0] for w in rest if w.strip("[]").startswith("--")
        )
        return "module", python.group(1), options
    first = text.split(" ", 1)[0]
    if first in ("harness", ".venv/bin/harness"):
        return "harness", text.removeprefix(".venv/bin/"), ()
    if first == "make":
        return "make", text, ()
    return None


def _path(text: str) -> str | None:
    candidate = text.strip().split(":", 1)[0].split("#", 1)[0]
    if _NOT_A_PATH.search(candidate) or not re.search(r"[A-Za-z]", candidate):
        return None
    if "/" in candidate or candidate.endswith(PATH_SUFFIXES) or candidate in ("Makefile",):
        return candidate
    return None


def mentions(markdown: str) -> list[Mention]:
    """Every path, command, module and rule-code mention in ``markdown``, in document order."""
    found: list[Mention] = []
    in_fence = False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        for match in _CODE.finditer(line):
            found.append(Mention("code", match.group(1), number, match.start() + 1))
        if in_fence:
            command = _command(line)
            if command:
                found.append(
                    Mention(command[0], command[1], number, len(line) - len(line.lstrip()) + 1)
                )
            continue
        for match in _SPAN.finditer(line):
            span, col = match.group(2).strip(), match.start(2) + 1
            command = _command(span)
            if command:
                found.append(Mention(command[0], command[1], number, col, command[2]))
                continue
            path = _path(span)
            if path:
                found.append(Mention("path", path, number, col))
    return found
