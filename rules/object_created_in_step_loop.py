"""Building a module, optimizer or compiled function in the step loop redoes setup every step.

What it does
Flags ``torch.compile(...)``, optimizer constructors (``torch.optim.*``, ``AdamW``,
``SGD``, ``Muon``...) and factories (``model.setup_optimizers()``, ``build_optimizer(...)``), and
``torch.nn`` module constructors (``nn.Linear(...)``, ``nn.CrossEntropyLoss()``) called inside the
training step loop (see NC101 for how the step loop is recognised).

Why is this bad?
``torch.compile`` recompiles (or at best re-traces guards) each time it is called; a fresh
optimizer throws away its momentum and second-moment state every step, which silently turns
AdamW into sign-SGD; a fresh module allocates new, untrained parameters that the optimizer
never sees. All three run without error and quietly ruin speed or learning.

Example
    for step in range(num_steps):
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
        loss = model(x, y)
        loss.backward()
        opt.step()

Use instead
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    for step in range(num_steps):
        loss = model(x, y)
        loss.backward()
        opt.step()

Fix safety
No automatic fix: hoisting the constructor needs its arguments to be available before the loop.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._step_loop import StepLoopScope
from rules._syntax import TEST_PATHS, call_name

_OPTIMIZER_FACTORIES = frozenset(
    {"setup_optimizer", "setup_optimizers", "configure_optimizers", "build_optimizer"}
    | {"make_optimizer", "create_optimizer", "get_optimizer"}
)
OPTIMIZERS = frozenset(
    {"Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS"}
    | {"SparseAdam", "Muon", "Lion", "Adafactor", "DistMuon", "DistAdamW", "MuonAdamW"}
)


class ObjectCreatedInStepLoop(StepLoopScope, Rule):
    code = "NC102"
    name = "object-created-in-step-loop"
    severity = "error"
    message = "{what} `{call}(...)` is created inside the step loop of {function}()"
    fix_title = "Create it once before the step loop and reuse it"
    tags = ("performance", "training-loop")
    prefilter = ("compile(", "optim", "nn.", "Adam", "SGD", "Muon")
    exclude = TEST_PATHS

    def visit_Call(self, node: cst.Call) -> None:
        if not self.in_step_loop:
            return
        name = call_name(node)
        if not name:
            return
        what = _kind(name)
        if what:
            self.report(node, what=what, call=name, function=self.function_name)


def _kind(name: str) -> str | None:
    parts = name.split(".")
    if name == "torch.compile":
        return "compiled model"
    if parts[-1] in OPTIMIZERS and (len(parts) == 1 or "optim" in parts[-2] or parts[0] == "torch"):
        return "optimizer"
    if parts[-1] in _OPTIMIZER_FACTORIES:
        return "optimizer"
    if len(parts) >= 2 and parts[-2] == "nn" and parts[-1][:1].isupper():
        return "module"
    return None
