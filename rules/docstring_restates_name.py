'''A docstring that only restates the function's name tells the reader nothing.

What it does
Flags a one-line docstring of a function or class that only restates its name: after dropping
filler words (the, a, an, this, function, method, class, that, which, returns, return, gets,
given, for, of, to, and, helper, simple, object, instance) and plural or verb endings, every
remaining word of the docstring appears in the name (for ``__init__``, ``__call__`` and other
dunders, the owning class's name and the dunder's meaning count as the name: "Initialize the
GPT model." under ``class GPT``) (``def get_batch(): """Get the batch."""``,
``class TokenizerConfig: """Tokenizer config class."""``). Docstrings of more than twelve
words are never flagged.

Why is this bad?
A docstring that repeats the name costs a line, reads as documentation, and tells the reader
nothing: not the shapes, units, side effects or reasons that a docstring is for. It is a
classic trait of generated code.

Example
    def compute_loss(logits, targets):
        """Compute the loss."""

Use instead
    def compute_loss(logits, targets):
        """Mean cross-entropy in nats over targets != -1; logits (B, T, V), targets (B, T)."""

Fix safety
The fix deletes the docstring line when the body has other statements. It is safe: only
``__doc__`` changes, and a docstring that says nothing is not worth keeping.
'''

from __future__ import annotations

import ast
import re

import libcst as cst

from harness.findings import Edit
from harness.lint.rule import Rule
from rules._syntax import docstring_node

_FILLER = frozenset(
    {"the", "a", "an", "this", "function", "method", "class", "that", "which", "returns", "return"}
    | {
        "gets",
        "get",
        "given",
        "for",
        "of",
        "to",
        "and",
        "helper",
        "simple",
        "object",
        "instance",
        "is",
    }
    | {"it", "its", "new", "just", "here", "defines", "define", "definition", "implementation"}
)


_DUNDER_WORDS = {
    "__init__": {
        "init",
        "initialize",
        "initialise",
        "initializ",
        "initialis",
        "construct",
        "constructor",
        "create",
        "set",
        "up",
    }
    | {"model", "module", "layer"},
    "__call__": {"call", "invoke", "run"},
    "__repr__": {"repr", "representation", "string"},
    "__str__": {"str", "string", "representation"},
    "__len__": {"len", "length", "number"},
}


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "ed", "s"):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _words(text: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return [_stem(w) for w in re.findall(r"[a-z0-9]+", spaced.lower())]


def restates(name: str, doc: str, owner: str = "") -> bool:
    """Whether ``doc`` says nothing beyond ``name`` (and, for dunders, the owning class's name)."""
    words = _words(doc)
    if not words or len(words) > 12 or "\n" in doc.strip():
        return False
    name_words = set(_words(name)) | _DUNDER_WORDS.get(name, set())
    if name.startswith("__") and owner:
        name_words |= set(_words(owner))
    meaningful = [w for w in words if w not in _FILLER]
    return bool(meaningful) and all(_in_name(w, name_words) for w in meaningful)


def _in_name(word: str, name_words: set[str]) -> bool:
    """Equal, or one abbreviates the other (``optim``/``optimizer``)."""
    if word in name_words:
        return True
    return any(
        min(len(word), len(n)) >= 4 and (word.startswith(n) or n.startswith(word))
        for n in name_words
    )


class DocstringRestatesName(Rule):
    code = "NC503"
    name = "docstring-restates-name"
    severity = "warning"
    message = "docstring {doc!r} of {kind} {name} only restates its name"
    fix_title = (
        "Delete the docstring, or say what the name cannot: shapes, units, side effects, why"
    )
    fix_applicability = "sometimes"
    tags = ("agent-slop", "docs")
    prefilter = ('"""', "'''")

    def __init__(self, context) -> None:
        super().__init__(context)
        self._classes: list[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._check(node, "function")

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._check(node, "class")
        self._classes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def _check(self, node: cst.FunctionDef | cst.ClassDef, kind: str) -> None:
        doc_node = docstring_node(node.body)
        if not isinstance(doc_node, cst.SimpleString):
            return
        try:
            doc = ast.literal_eval(doc_node.value)
        except (ValueError, SyntaxError):
            return
        owner = self._classes[-1] if self._classes and kind == "function" else ""
        if not isinstance(doc, str) or not restates(node.name.value, doc, owner):
            return
        edits = None
        statements = node.body.body
        if len(statements) > 1 and len(statements[0].body) == 1:
            pos = self.position(statements[0])
            edits = (Edit(pos.start.line, 1, pos.end.line + 1, 1, ""),)
        self.report(doc_node, edits=edits, doc=doc.strip(), kind=kind, name=node.name.value)
