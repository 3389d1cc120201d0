"""Code nested deeper than its budget is hard to follow and test.

What it does
Flags a function whose blocks nest deeper than the budget. Depth counts the compound
statements (``if``, ``for``, ``while``, ``with``, ``try``, ``match``) enclosing a statement
inside the function body; ``elif``/``else`` do not add depth, and a nested function starts
again at zero. The finding points at the first statement past the budget.

Why is this bad?
Each level multiplies the paths a reader has to keep in mind; five levels down, nobody can say
which conditions hold. Deep nesting in a training loop usually hides a missing helper
(``should_evaluate(step)``) or a missing early ``continue``.

Example
    for step in range(num_steps):
        if master_process:
            if step % eval_every == 0:
                for split in ("train", "val"):
                    with torch.no_grad():
                        if split == "val":
                            log(evaluate(model))

Use instead
    for step in range(num_steps):
        if master_process and step % eval_every == 0:
            log_evaluation(model)

Fix safety
No automatic fix: flattening needs early returns or helpers.

Options
max_depth: the deepest nesting allowed inside a function (int >= 1, default 5).
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Option, Rule


class NestingTooDeep(Rule):
    code = "NC506"
    name = "nesting-too-deep"
    severity = "warning"
    message = "{function}() nests {depth} blocks deep (budget {budget})"
    fix_title = "Flatten with early returns/continue or extract the inner block into a named helper"
    tags = ("maintainability",)
    options = {
        "max_depth": Option(default=5, doc="deepest nesting allowed inside a function", kind=int)
    }

    def __init__(self, context) -> None:
        super().__init__(context)
        self._stack: list[list] = []  # per function: [name, depth, reported]
        self._elifs: set[int] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._stack.append([node.name.value, 0, False])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()

    def _enter(self, node: cst.CSTNode) -> None:
        if not self._stack or id(node) in self._elifs:
            return
        frame = self._stack[-1]
        frame[1] += 1
        budget = self.option("max_depth")
        if frame[1] > budget and not frame[2]:
            frame[2] = True
            self.report(node, function=frame[0], depth=frame[1], budget=budget)

    def _leave(self, node: cst.CSTNode) -> None:
        if self._stack and id(node) not in self._elifs:
            self._stack[-1][1] -= 1

    def visit_If(self, node: cst.If) -> None:
        self._enter(node)
        if isinstance(node.orelse, cst.If):
            self._elifs.add(id(node.orelse))

    def leave_If(self, original_node: cst.If) -> None:
        self._leave(original_node)

    def visit_For(self, node: cst.For) -> None:
        self._enter(node)

    def leave_For(self, original_node: cst.For) -> None:
        self._leave(original_node)

    def visit_While(self, node: cst.While) -> None:
        self._enter(node)

    def leave_While(self, original_node: cst.While) -> None:
        self._leave(original_node)

    def visit_With(self, node: cst.With) -> None:
        self._enter(node)

    def leave_With(self, original_node: cst.With) -> None:
        self._leave(original_node)

    def visit_Try(self, node: cst.Try) -> None:
        self._enter(node)

    def leave_Try(self, original_node: cst.Try) -> None:
        self._leave(original_node)

    def visit_Match(self, node: cst.Match) -> None:
        self._enter(node)

    def leave_Match(self, original_node: cst.Match) -> None:
        self._leave(original_node)
