"""The read-only walkers make the same calls in the same order as libcst's own traversals."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper

from harness.lint.walk import walk, walk_batched

# Real modules with code in them (a docstring-only package __init__ has nothing to walk).
SOURCES = [
    p
    for p in sorted((Path(__file__).resolve().parents[2] / "harness").rglob("*.py"))
    if "def " in p.read_text(encoding="utf-8")
][:12]
TRICKY = (
    'x = f"{a!r:>{w}} {b=}"\nclass C:\n    @d\n    def f(self, *, k=1) -> int:\n        return k\n'
)


class Recorder(cst.BatchableCSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.calls.append(("visit_FunctionDef", node.name.value))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.calls.append(("leave_FunctionDef", original_node.name.value))

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.calls.append(("visit_FunctionDef_body", node.name.value))

    def visit_Name(self, node: cst.Name) -> None:
        self.calls.append(("visit_Name", node.value))

    def visit_Comment(self, node: cst.Comment) -> None:
        self.calls.append(("visit_Comment", node.value))

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        self.calls.append(("visit_FormattedStringExpression", ""))


class CodeOnly(Recorder):
    """No comment handler: the walker may skip whitespace, comments and operators."""

    visit_Comment = None  # type: ignore[assignment]


class OperatorWatcher(cst.BatchableCSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def visit_Comma(self, node: cst.Comma) -> None:
        self.calls.append("Comma")

    def visit_Comment(self, node: cst.Comment) -> None:
        self.calls.append(node.value)


class Pruner(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.seen.append(f"class {node.name.value}")
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.seen.append(node.value)


def test_batched_walk_matches_libcst_visit_batched_call_for_call():
    for source in [TRICKY, *(p.read_text(encoding="utf-8") for p in SOURCES)]:
        module = cst.parse_module(source)
        theirs, ours = Recorder(), Recorder()
        MetadataWrapper(module, unsafe_skip_copy=True).visit_batched([theirs])
        walk_batched(module, [ours])
        assert ours.calls == theirs.calls and ours.calls


def test_skipping_trivia_changes_no_call_a_rule_can_see():
    source = "x = [1,  # one\n     2]\n# closing\ny = a + b\n"
    for kind in (CodeOnly, OperatorWatcher):
        module = cst.parse_module(source + TRICKY)
        theirs, ours = kind(), kind()
        MetadataWrapper(module, unsafe_skip_copy=True).visit_batched([theirs])
        walk_batched(module, [ours])
        assert ours.calls == theirs.calls and ours.calls


def test_single_walk_honours_pruning_like_node_visit():
    module = cst.parse_module(TRICKY)
    theirs, ours = Pruner(), Pruner()
    module.visit(theirs)
    walk(module, ours)
    assert ours.seen == theirs.seen
    assert "class C" in ours.seen and "self" not in ours.seen
