"""Accumulating the loss tensor keeps every step's autograd graph alive.

What it does
Flags ``total += loss`` and ``losses.append(loss)`` inside the training step loop (see NC101) when
the added value is a tensor-like name (``loss``, ``train_loss``, ``logits``...) with no
``.detach()``, ``.item()``, ``float()`` or ``int()`` around it, and (for ``+=``) the accumulator is
never ``.backward()``-ed in the same function (gradient accumulation, where the sum is
differentiated, is fine).

Why is this bad?
The loss carries its autograd graph. Adding it to a running total keeps every step's graph,
activations included, alive for as long as the total lives: memory grows each step until the
run dies out of memory, usually long after the line that caused it.

Example
    running_loss = 0.0
    for step in range(num_steps):
        loss = model(x, y)
        loss.backward()
        running_loss += loss

Use instead
    running_loss = torch.zeros((), device=device)
    for step in range(num_steps):
        loss = model(x, y)
        loss.backward()
        running_loss += loss.detach()

Fix safety
The fix appends ``.detach()`` to the added or appended name. It is safe: the total is only read for
logging, and the fix is offered only when the total is never differentiated in the function.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._step_loop import StepLoopScope
from rules._syntax import (
    TEST_PATHS,
    dotted,
    insert_at_end,
    is_tensorish_name,
    method_name,
    names_in,
)

_DETACHING = frozenset({"detach", "item", "float", "int", "tolist", "cpu"})


class LossAccumulatedWithGraph(StepLoopScope, Rule):
    code = "NC206"
    name = "loss-accumulated-with-graph"
    severity = "error"
    message = "`{target} += {value}` keeps the autograd graph of every step alive in {function}()"
    fix_title = "Accumulate `.detach()`-ed values (or `.item()` under the logging guard)"
    fix_applicability = "always"
    tags = ("correctness", "memory", "training-loop")
    prefilter = ("+=", ".append(")
    exclude = TEST_PATHS

    def __init__(self, context) -> None:
        super().__init__(context)
        self._candidates: list[tuple[cst.AugAssign, str, str, str]] = []
        self._differentiated: set[tuple[str, str]] = set()
        self._appends: list[tuple[cst.Call, cst.BaseExpression, str, str, str]] = []

    def _note_backward(self, node: cst.Call) -> None:
        if method_name(node) == "backward":
            receiver = dotted(node.func.value)
            if receiver:
                self._differentiated.add((self.function_name, receiver))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if not self.in_step_loop or not isinstance(node.operator, cst.AddAssign):
            return
        target = dotted(node.target)
        value = node.value
        if target is None or not isinstance(value, (cst.Name, cst.Attribute)):
            return
        value_name = dotted(value)
        if (
            value_name
            and is_tensorish_name(value_name.rsplit(".", 1)[-1])
            and not (names_in(value) & _DETACHING)
        ):
            self._candidates.append((node, target, value_name, self.function_name))

    def visit_Call(self, node: cst.Call) -> None:
        self._note_backward(node)
        if not self.in_step_loop or method_name(node) != "append" or len(node.args) != 1:
            return
        value = node.args[0].value
        value_name = dotted(value) if isinstance(value, (cst.Name, cst.Attribute)) else None
        target = dotted(node.func.value)
        if value_name and target and is_tensorish_name(value_name.rsplit(".", 1)[-1]):
            self._appends.append((node, value, target, value_name, self.function_name))

    def leave_Module(self, original_node: cst.Module) -> None:
        for node, value, target, value_name, function in self._appends:
            edit = insert_at_end(self.position(value), ".detach()")
            self.report(
                node,
                edits=(edit,),
                message=(
                    f"`{target}.append({value_name})` keeps the autograd graph of every step "
                    f"alive in {function}()"
                ),
            )
        for node, target, value_name, function in self._candidates:
            if (function, target) in self._differentiated:
                continue
            edit = insert_at_end(self.position(node.value), ".detach()")
            self.report(node, edits=(edit,), target=target, value=value_name, function=function)
