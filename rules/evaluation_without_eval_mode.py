"""
What it does
Flags an evaluation function (named as in NC402: ``evaluate*``, ``eval*``, ``validation*``,
``estimate_loss``, ``*_bpb``...) that calls a model but never switches it to inference mode:
no ``<model>.eval()``, ``<model>.train(False)`` or ``<model>.requires_grad_(False)`` anywhere in
its body. A model call is a call of ``model``, ``self.model``, ``net``, ``module`` or a name
ending in ``model``.

Why is this bad?
In training mode, dropout stays on and batch-norm layers update their running statistics from
the validation batches, so the metric is noisy and evaluation silently changes the model. It is
also a way for an edited model to behave differently under evaluation than the sealed evaluator
expects.

Example
    @torch.no_grad()
    def evaluate_loss(model, batches):
        return sum(model(x, y).item() for x, y in batches) / len(batches)

Use instead
    @torch.no_grad()
    def evaluate_loss(model, batches):
        was_training = model.training
        model.eval()
        loss = sum(model(x, y).item() for x, y in batches) / len(batches)
        model.train(was_training)
        return loss

Fix safety
No automatic fix: the mode must be restored afterwards, and where is the caller's decision.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._eval_scope import EvalScope
from rules._syntax import TEST_PATHS, call_name, method_name, positional

_MODEL_NAMES = frozenset({"model", "self.model", "net", "module", "self.net", "self.module"})


class EvaluationWithoutEvalMode(EvalScope, Rule):
    code = "NC404"
    name = "evaluation-without-eval-mode"
    severity = "warning"
    message = "{function}() evaluates {model}(...) without switching it to eval mode"
    fix_title = "Call model.eval() before evaluating (and restore model.train() afterwards)"
    tags = ("evaluation-integrity",)
    prefilter = ("model", "net", "module")
    exclude = TEST_PATHS

    def __init__(self, context) -> None:
        super().__init__(context)
        self._state: dict[int, dict] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
        if self.eval_function is node:
            self._state[id(node)] = {"eval_mode": False, "model": None}

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        state = self._state.pop(id(original_node), None)
        super().leave_FunctionDef(original_node)
        if state and state["model"] and not state["eval_mode"]:
            self.report(original_node.name, function=original_node.name.value, model=state["model"])

    def visit_Call(self, node: cst.Call) -> None:
        function = self.eval_function
        if function is None:
            return
        state = self._state[id(function)]
        method = method_name(node)
        args = positional(node)
        is_false = (
            bool(args) and isinstance(args[0].value, cst.Name) and args[0].value.value == "False"
        )
        if method == "eval" and not node.args or method in ("train", "requires_grad_") and is_false:
            state["eval_mode"] = True
            return
        name = call_name(node) or ""
        if name in _MODEL_NAMES or name.endswith("model"):
            state["model"] = state["model"] or name
