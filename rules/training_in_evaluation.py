"""An evaluation function that steps an optimizer trains on the evaluation data.

What it does
Flags ``.backward()`` calls and optimizer steps (``opt.step()``, ``optimizer.step()``,
``scaler.step(...)``) inside an evaluation function (named as in NC402: ``evaluate*``,
``eval*``, ``validation*``, ``estimate_loss``, ``*_bpb``...).

Why is this bad?
An evaluation that computes gradients or steps an optimizer trains on the validation data: the
reported metric improves because the model has seen the answers. It is the most direct way to
game val_bpb, and it also corrupts the optimizer state the training run continues from.

Example
    def evaluate(model, val_batches, opt):
        for x, y in val_batches:
            loss = model(x, y)
            loss.backward()
            opt.step()

Use instead
    @torch.no_grad()
    def evaluate(model, val_batches):
        return sum(model(x, y).item() for x, y in val_batches) / len(val_batches)

Fix safety
No automatic fix: the training code has to leave the evaluation function.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._eval_scope import EvalScope
from rules._syntax import TEST_PATHS, dotted, method_name, snippet

_OPTIMIZER_WORDS = ("optim", "opt", "scaler")


class TrainingInEvaluation(EvalScope, Rule):
    code = "NC403"
    name = "training-in-evaluation"
    severity = "error"
    message = "`{call}` in evaluation function {function}() trains on the evaluation data"
    fix_title = "Remove gradient computation and optimizer steps from the evaluation function"
    tags = ("evaluation-integrity",)
    prefilter = ("backward(", ".step(")
    exclude = TEST_PATHS

    def visit_Call(self, node: cst.Call) -> None:
        function = self.eval_function
        if function is None:
            return
        method = method_name(node)
        receiver = (dotted(node.func.value) or "").rsplit(".", 1)[-1].lower() if method else ""
        if method == "backward" or (method == "step" and receiver.startswith(_OPTIMIZER_WORDS)):
            self.report(node, call=snippet(node), function=function.name.value)
