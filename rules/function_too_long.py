"""A function longer than its budget does too many things to review.

What it does
Flags a function or method with more statements than the budget. Statements are counted the way
ruff's ``too-many-statements`` counts them, roughly: each simple statement and each compound
statement header (``if``, ``for``, ``with``, ``try``, ``def``...) counts one; ``else``,
``elif`` and ``except`` branches count one each; the docstring does not count. Formatting and
comments therefore never change the count.

Why is this bad?
A long function does several jobs: it cannot be tested one job at a time, its local variables
leak between phases, and an agent editing one phase has to read (and can break) all the others.
Training scripts grow this way: the step loop absorbs logging, evaluation, checkpointing and
scheduling until nobody can change one without touching the rest.

Example
    def train(cfg):
        ...  # 120 statements: setup, schedule, loop, eval, checkpointing, summary

Use instead
    def train(cfg):
        state = setup(cfg)
        for step in range(state.num_steps):
            train_step(state, step)
            maybe_evaluate(state, step)
        return summarize(state)

Fix safety
No automatic fix: splitting a function is a design decision.

Options
max_statements: the largest number of statements a function may have (int >= 1, default 60).
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Option, Rule
from rules._syntax import docstring_node


class _StatementCounter(cst.CSTVisitor):
    def __init__(self) -> None:
        self.count = 0

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.count += len(node.body)

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self.count += len(node.body)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseCompoundStatement):
            self.count += 1
        return super().on_visit(node)

    def visit_Else(self, node: cst.Else) -> None:
        self.count += 1

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.count += 1

    def visit_Finally(self, node: cst.Finally) -> None:
        self.count += 1


def count_statements(node: cst.FunctionDef) -> int:
    counter = _StatementCounter()
    node.body.visit(counter)
    has_docstring = docstring_node(node.body) is not None
    return counter.count - (1 if has_docstring else 0)


class FunctionTooLong(Rule):
    code = "NC505"
    name = "function-too-long"
    severity = "warning"
    message = "{function}() has {count} statements (budget {budget})"
    fix_title = "Split the function into named steps, each with one job"
    tags = ("maintainability",)
    options = {
        "max_statements": Option(
            default=60, doc="largest number of statements a function may have", kind=int
        )
    }

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        budget = self.option("max_statements")
        count = count_statements(node)
        if count > budget:
            self.report(node.name, function=node.name.value, count=count, budget=budget)
