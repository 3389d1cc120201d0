"""An evaluation function runs the model without switching it to eval mode.

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
from rules._syntax import TEST_PATHS, method_name, positional


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
        self._in_eval_mode: set[int] = set()  # ids of evaluation functions that switch modes

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        super().leave_FunctionDef(original_node)
        model = self.model_called_in(original_node)
        if model and id(original_node) not in self._in_eval_mode:
            self.report(original_node.name, function=original_node.name.value, model=model)

    def visit_Call(self, node: cst.Call) -> None:
        function = self.eval_function
        if function is None:
            return
        method = method_name(node)
        args = positional(node)
        is_false = (
            bool(args) and isinstance(args[0].value, cst.Name) and args[0].value.value == "False"
        )
        if method == "eval" and not node.args or method in ("train", "requires_grad_") and is_false:
            self._in_eval_mode.add(id(function))
            return
        self.record_model_call(node)
