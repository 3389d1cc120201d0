"""The rule base class: one class is the detector, its message, its fix and its docs.

A rule is a libcst ``BatchableCSTVisitor``: the engine parses a file once and runs every
applicable rule in a single read-only batched traversal (``harness.lint.walk``; rules only
read the tree). The rule module's docstring (or the class's own) is its documentation, written
in the sections ``What it does``, ``Why is this bad?``, ``Example``, ``Use instead`` and, where
relevant, ``Fix safety`` and ``Options``; ``harness explain CODE`` prints it.

Positions cost about 2.5x the parse, so ``report`` records the node and the engine resolves its
position after the traversal, only for files with a finding. Use ``self.position(node)`` when a
rule needs a position while visiting; declare other libcst metadata (scopes, qualified names) in
``METADATA_DEPENDENCIES`` as usual. Helper visitors inside a rule should traverse with
``harness.lint.walk.walk(node, visitor)`` instead of ``node.visit(visitor)``, which rebuilds
every node it passes.
"""

from __future__ import annotations

import fnmatch
import inspect
import re
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from harness.config import type_names
from harness.findings import Edit, Fix, Severity

DOC_SECTIONS = (
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "Fix safety",
    "Options",
)
REQUIRED_DOC_SECTIONS = DOC_SECTIONS[:4]  # every rule's docstring has these


@dataclass(frozen=True)
class Option:
    """A rule option: its default, accepted type and what it controls."""

    default: Any
    doc: str
    kind: type | tuple[type, ...] = object

    def validate(self, name: str, value: Any) -> str | None:
        """Return an error text when ``value`` is not acceptable, else None."""
        if isinstance(value, bool) and self.kind in (int, float):
            return f"option {name!r} expects {type_names(self.kind)}, got bool"
        if not isinstance(value, self.kind):
            want = type_names(self.kind, "/")
            return f"option {name!r} expects {want}, got {type(value).__name__} {value!r}"
        return None


@dataclass
class RawReport:
    """What a rule reported, before the engine resolves its position and makes it a Finding."""

    node: cst.CSTNode
    message: str
    replacement: cst.CSTNode | cst.RemovalSentinel | None = None
    edits: tuple[Edit, ...] | None = None
    unsafe: bool = False


@dataclass
class RuleContext:
    """Per-file facts handed to each rule instance."""

    path: str  # repo-relative POSIX path, or the path a golden file pretends to live at
    source: str
    options: dict[str, Any] = field(default_factory=dict)
    root: str = ""  # the repository root that ``path`` is relative to ("" = the working directory)

    @property
    def module(self) -> str:
        """Dotted module name derived from the path (``nanochat/train.py`` -> ``nanochat.train``)."""
        parts = self.path.removesuffix(".py").split("/")
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts)


class Rule(cst.BatchableCSTVisitor):
    """Base class for every lint rule; subclasses set the class attributes and visit methods."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = "error"
    message: ClassVar[str] = ""  # str.format template naming the site
    fix_title: ClassVar[str] = ""  # imperative: what to do
    fix_applicability: ClassVar[Literal["always", "sometimes", "never"]] = "never"
    tags: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[dict[str, Option]] = {}
    # Substrings (or compiled regexes) of which one must occur in the source for the rule to run.
    prefilter: ClassVar[tuple[str | re.Pattern[str], ...]] = ()
    # Glob patterns (repo-relative POSIX) the rule applies to, and patterns it never applies to.
    include: ClassVar[tuple[str, ...]] = ("*.py",)
    exclude: ClassVar[tuple[str, ...]] = ()
    # The option (a list of globs) naming files the rule leaves alone by design, such as the
    # config module for NC301; checked with include/exclude, before any parse.
    exempt_paths_option: ClassVar[str] = ""

    # Positions cost about 2.5x the parse, so they are resolved lazily: only for files where a
    # rule reports or calls position(). Declare PositionProvider here only to get it eagerly.
    METADATA_DEPENDENCIES = ()

    def __init__(self, context: RuleContext) -> None:
        super().__init__()
        self.context = context
        self.reports: list[RawReport] = []
        self.wrapper: MetadataWrapper | None = None  # set by the engine before the traversal

    # ----- configuration -------------------------------------------------------------
    def option(self, name: str) -> Any:
        return self.context.options.get(name, self.options[name].default)

    @classmethod
    def applies_to(cls, path: str, options: Mapping[str, Any] | None = None) -> bool:
        """Whether ``path`` is the rule's to check, given its ``options`` (decided by path alone)."""
        matches = lambda patterns: any(fnmatch.fnmatch(path, p) for p in patterns)  # noqa: E731
        if not matches(cls.include) or matches(cls.exclude):
            return False
        if not cls.exempt_paths_option:
            return True
        name = cls.exempt_paths_option
        exempt = (options or {}).get(name, cls.options[name].default)
        return not matches(exempt)

    @classmethod
    def passes_prefilter(cls, source: str) -> bool:
        return not cls.prefilter or any(
            token.search(source) is not None if isinstance(token, re.Pattern) else token in source
            for token in cls.prefilter
        )

    # ----- reporting -----------------------------------------------------------------
    def report(
        self,
        node: cst.CSTNode,
        replacement: cst.CSTNode | cst.RemovalSentinel | None = None,
        *,
        edits: tuple[Edit, ...] | None = None,
        unsafe: bool = False,
        message: str | None = None,
        **fields: Any,
    ) -> None:
        """Report ``node``; ``fields`` fill the message template.

        A fix is either a ``replacement`` node for ``node`` or explicit text ``edits``;
        ``unsafe=True`` marks a fix that can change behaviour.
        """
        text = message if message is not None else self.message.format(**fields)
        self.reports.append(
            RawReport(node, text, replacement, tuple(edits) if edits else None, unsafe)
        )

    def position(self, node: cst.CSTNode) -> CodeRange:
        """The libcst CodeRange of ``node`` (0-based columns, 1-based lines)."""
        if PositionProvider in self.metadata or self.wrapper is None:
            return self.get_metadata(PositionProvider, node)
        return self.wrapper.resolve(PositionProvider)[node]

    def resolve_report(self, raw: RawReport) -> tuple[int, int, int, int, Fix | None]:
        """1-based (line, col, end_line, end_col) of a report, and its Fix if it has one."""
        pos = self.position(raw.node)
        start, end = (pos.start.line, pos.start.column + 1), (pos.end.line, pos.end.column + 1)
        edits = raw.edits
        if raw.replacement is not None:
            removed = isinstance(raw.replacement, cst.RemovalSentinel)
            edits = (Edit(*start, *end, "" if removed else _code_for(raw.replacement)),)
        fix = Fix(self.fix_title, edits, "unsafe" if raw.unsafe else "safe") if edits else None
        return (*start, *end, fix)

    # ----- documentation -------------------------------------------------------------
    @classmethod
    def docs(cls) -> dict[str, str]:
        """The docstring split into its sections (keys from DOC_SECTIONS, plus 'summary')."""
        if cls not in _DOCS:
            _DOCS[cls] = cls._parse_docs()
        return _DOCS[cls]

    @classmethod
    def _parse_docs(cls) -> dict[str, str]:
        module = sys.modules.get(cls.__module__)
        text = inspect.cleandoc(
            cls.__dict__.get("__doc__") or getattr(module, "__doc__", None) or ""
        )
        sections: dict[str, str] = {}
        current = "summary"
        lines: list[str] = []
        heading = re.compile(
            r"^(?:#+\s*)?({}):?\s*$".format("|".join(re.escape(s) for s in DOC_SECTIONS))
        )
        for line in text.splitlines():
            match = heading.match(line.strip())
            if match:
                sections[current] = textwrap.dedent("\n".join(lines)).strip("\n").rstrip()
                current, lines = match.group(1), []
            else:
                lines.append(line)
        sections[current] = textwrap.dedent("\n".join(lines)).strip("\n").rstrip()
        return {k: v for k, v in sections.items() if v}


_DOCS: dict[type, dict[str, str]] = {}
_EMPTY_MODULE = cst.Module(body=[])


def _code_for(node: cst.CSTNode) -> str:
    return _EMPTY_MODULE.code_for_node(node)
