"""A visitor mixin that knows, at every node, whether it sits in the training step loop.

Not a rule module (it defines no Rule subclass). Rules that care about "inside the step loop,
outside a logging interval" inherit ``StepLoopScope`` first and read ``in_step_loop``,
``is_guarded`` and ``function_name``. Nested functions start a fresh scope: a helper defined in
the loop body runs when it is called, not where it is written. A loop over held-out data nested
in the step loop (``for x, y in val_loader``) counts as a guarded evaluation branch.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from rules._syntax import is_logging_guard, is_step_loop, names_in

# Loop headers over held-out data: a loop like this inside the step loop is the evaluation branch.
_EVAL_WORDS = frozenset({"val", "valid", "validation", "eval", "test", "dev", "holdout"})


def _is_evaluation_loop(node: cst.For) -> bool:
    words = {w for name in names_in(node.iter) for w in name.lower().split("_")}
    return bool(words & _EVAL_WORDS)


@dataclass
class _Frame:
    function: str
    step_loops: int = 0
    guards: int = 0


class StepLoopScope:
    """Mixin for a Rule: tracks step loops and logging guards per enclosing function."""

    def _frames(self) -> list[_Frame]:
        if "_scope_frames" not in self.__dict__:
            self._scope_frames = [_Frame("<module>")]
            self._scope_loops: set[int] = set()
            self._scope_guarded: set[int] = set()
        return self._scope_frames

    @property
    def in_step_loop(self) -> bool:
        return self._frames()[-1].step_loops > 0

    @property
    def is_guarded(self) -> bool:
        return self._frames()[-1].guards > 0

    @property
    def function_name(self) -> str:
        return self._frames()[-1].function

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames().append(_Frame(node.name.value))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._frames().pop()

    def visit_For(self, node: cst.For) -> None:
        self._enter_loop(node)

    def leave_For(self, original_node: cst.For) -> None:
        self._leave_loop(original_node)

    def visit_While(self, node: cst.While) -> None:
        self._enter_loop(node)

    def leave_While(self, original_node: cst.While) -> None:
        self._leave_loop(original_node)

    def visit_If(self, node: cst.If) -> None:
        if self.in_step_loop and is_logging_guard(node.test):
            self._scope_guarded.add(id(node.body))

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._frames()  # a class body can be the first block seen
        if id(node) in self._scope_guarded:
            self._frames()[-1].guards += 1

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        if id(original_node) in self._scope_guarded:
            self._frames()[-1].guards -= 1

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        if id(node) in self._scope_guarded:
            self._frames()[-1].guards += 1

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite) -> None:
        if id(original_node) in self._scope_guarded:
            self._frames()[-1].guards -= 1

    def _enter_loop(self, node: cst.For | cst.While) -> None:
        frames = self._frames()
        if is_step_loop(node):
            self._scope_loops.add(id(node))
            frames[-1].step_loops += 1
        elif self.in_step_loop and isinstance(node, cst.For) and _is_evaluation_loop(node):
            self._scope_guarded.add(id(node))
            frames[-1].guards += 1

    def _leave_loop(self, node: cst.For | cst.While) -> None:
        if id(node) in self._scope_loops:
            self._frames()[-1].step_loops -= 1
        elif id(node) in self._scope_guarded:
            self._frames()[-1].guards -= 1
