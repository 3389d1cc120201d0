"""An evaluation function runs the model with autograd on, wasting memory.

What it does
Flags an evaluation function (named ``evaluate*``, ``eval*``, ``validation*``, ``estimate_loss``,
``*_bpb``... see below) that calls a model but never turns autograd off: no
``@torch.no_grad()`` / ``@torch.inference_mode()`` decorator and no ``with torch.no_grad():`` /
``with torch.inference_mode():`` block in its body. A call counts as a model call when the
callee is named ``model``, ``self.model``, ``net``, ``module`` or ends in ``model``.

Evaluation function names: starting with ``eval``, ``evaluate``, ``validation``,
``estimate_loss``, ``val_`` or ``compute_val``, or containing ``_eval`` or ``_val_``, or ending
in ``_bpb``.

Why is this bad?
With autograd on, every forward pass in evaluation records a graph and keeps activations for a
backward pass that never comes: evaluation uses several times the memory it needs, runs slower,
and a large eval batch that fits under ``no_grad`` runs out of memory.

Example
    def evaluate_bpb(model, batches):
        return sum(model(x, y).item() for x, y in batches)

Use instead
    @torch.no_grad()
    def evaluate_bpb(model, batches):
        return sum(model(x, y).item() for x, y in batches)

Fix safety
The fix adds ``@torch.no_grad()`` above the function. It is unsafe because it assumes the
module imports ``torch`` under that name and that nothing in the function needs gradients.
"""

from __future__ import annotations

import libcst as cst

from harness.findings import Edit
from harness.lint.rule import Rule
from rules._eval_scope import EvalScope
from rules._syntax import TEST_PATHS, decorator_names, dotted

_NO_GRAD = frozenset(
    {"torch.no_grad", "no_grad", "torch.inference_mode", "inference_mode", "torch.enable_grad"}
)


class EvaluationWithoutNoGrad(EvalScope, Rule):
    code = "NC402"
    name = "evaluation-without-no-grad"
    severity = "warning"
    message = "{function}() runs {model}(...) for evaluation with autograd on"
    fix_title = (
        "Decorate the evaluation function with @torch.no_grad() (or @torch.inference_mode())"
    )
    fix_applicability = "always"
    tags = ("evaluation-integrity", "memory")
    prefilter = ("model", "net", "module")
    exclude = TEST_PATHS

    def __init__(self, context) -> None:
        super().__init__(context)
        self._guarded: set[int] = set()  # ids of evaluation functions under no_grad

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
        if self.eval_function is node and decorator_names(node) & _NO_GRAD:
            self._guarded.add(id(node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        super().leave_FunctionDef(original_node)
        model = self.model_called_in(original_node)
        if model and id(original_node) not in self._guarded:
            pos = self.position(original_node)
            indent = " " * pos.start.column
            first = original_node.decorators[0] if original_node.decorators else None
            line = self.position(first).start.line if first is not None else pos.start.line
            edit = Edit(line, 1, line, 1, f"{indent}@torch.no_grad()\n")
            self.report(
                original_node.name,
                edits=(edit,),
                unsafe=True,
                function=original_node.name.value,
                model=model,
            )

    def visit_WithItem(self, node: cst.WithItem) -> None:
        function = self.eval_function
        expr = node.item.func if isinstance(node.item, cst.Call) else node.item
        if function is not None and dotted(expr) in _NO_GRAD:
            self._guarded.add(id(function))

    def visit_Call(self, node: cst.Call) -> None:
        self.record_model_call(node)
