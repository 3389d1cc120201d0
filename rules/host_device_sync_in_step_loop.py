"""A host-device sync in the step loop stalls the GPU on every step.

What it does
Flags host-device synchronisations inside the training step loop that are not under a logging
or evaluation guard: ``.item()``, ``.tolist()``, ``.numpy()``, ``.cpu()``, ``.to("cpu")``,
``float()``/``int()``/``bool()`` of a tensor-like value, ``print`` of a tensor-like value, and
an ``if``/``while``/``assert`` whose test checks a tensor (``if torch.isnan(loss):``,
``assert loss.isfinite().all()``), which calls ``bool()`` on it.

The step loop is a ``for``/``while`` loop whose target is named ``step``, ``it``, ``iteration``,
``global_step``, ``train_step`` or ``micro_step``, or whose header names a step count
(``range(num_steps)``, ``while step < cfg.max_iters``, ``enumerate(train_loader)``: a count such as
``steps``, ``num_steps``, ``max_iters``, ``num_iterations``, inside a counting call or a ``while``
test), or whose body calls ``.backward()`` or ``optimizer.step()``; a loop over a literal list or
``itertools.product`` is a sweep, not the step loop. A guard is an ``if`` whose test uses ``%`` or
a name containing ``log``, ``eval``, ``every``, ``interval``, ``verbose``, ``debug``, ``report``,
``print``, ``checkpoint``, ``save``, ``last``, ``final`` or ``done``; a loop over held-out data
nested in the step loop (``for x, y in val_loader``) counts as guarded too. Since types are
unknown, ``float()``, ``int()``, ``bool()`` and ``print`` only count when their argument reads a
tensor-like name: one with a part ``loss``, ``logits``, ``grad``, ``norm``, ``acc``, ``bpb`` or
``ppl`` that does not end in a count or label part (``grad_accum_steps`` and ``loss_fn`` are not
tensors).

Why is this bad?
CUDA runs asynchronously: the host queues kernels ahead of the GPU. Reading a value back blocks
the host until every queued kernel has finished, so the next step cannot be queued while this
one runs. One ``.item()`` per step can cost 5-20% of throughput on a small model.

Example
    for step in range(num_steps):
        loss = model(x, y)
        loss.backward()
        opt.step()
        print(f"step {step} loss {loss.item():.4f}")

Use instead
    for step in range(num_steps):
        loss = model(x, y)
        loss.backward()
        opt.step()
        if step % cfg.log_every == 0:
            print(f"step {step} loss {loss.item():.4f}")

Fix safety
No automatic fix: where the value belongs (a guard, a device-side accumulator) is a judgment.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._step_loop import StepLoopScope
from rules._syntax import (
    TEST_PATHS,
    call_name,
    is_logging_guard,
    is_tensorish_name,
    method_name,
    names_in,
    positional,
    snippet,
    string_value,
)

_SYNC_METHODS = frozenset({"item", "tolist", "numpy", "cpu"})
_CONVERSIONS = frozenset({"float", "int", "bool"})


class HostDeviceSyncInStepLoop(StepLoopScope, Rule):
    code = "NC101"
    name = "host-device-sync-in-step-loop"
    severity = "warning"
    message = "`{op}` in the step loop of {function}() forces a host-device sync every step"
    fix_title = (
        "Move it under the logging guard (if step % log_every == 0) or keep the value on the device"
    )
    tags = ("performance", "training-loop")
    prefilter = (
        ".item(",
        ".tolist(",
        ".numpy(",
        ".cpu(",
        "float(",
        "int(",
        "bool(",
        "print(",
        '"cpu"',
        "isnan",
        "isinf",
        "isfinite",
    )
    exclude = TEST_PATHS

    def visit_If(self, node: cst.If) -> None:
        super().visit_If(node)
        self._check_condition(node.test)

    def visit_While(self, node: cst.While) -> None:
        super().visit_While(node)
        self._check_condition(node.test)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._check_condition(node.test)

    def _check_condition(self, test: cst.BaseExpression) -> None:
        """``if torch.isnan(loss):`` / ``assert loss.isfinite().all()``: an implicit bool() sync."""
        if not self.in_step_loop or self.is_guarded or is_logging_guard(test):
            return
        finder = _TensorCheckFinder()
        test.visit(finder)
        if finder.found is not None and not any(self._sync_op(c) for c in finder.calls):
            self.report(test, op=snippet(test), function=self.function_name)

    def visit_Call(self, node: cst.Call) -> None:
        if not self.in_step_loop or self.is_guarded:
            return
        op = self._sync_op(node)
        if op:
            self.report(node, op=op, function=self.function_name)

    def _sync_op(self, node: cst.Call) -> str | None:
        method = method_name(node)
        if method in _SYNC_METHODS and not node.args:
            return snippet(node)
        if method == "to":
            args = positional(node)
            if args and string_value(args[0].value) == "cpu":
                return snippet(node)
        name = call_name(node)
        if name in _CONVERSIONS and len(node.args) == 1 and _mentions_tensor(node.args[0].value):
            return snippet(node)
        if name == "print" and any(
            _mentions_tensor(a.value) for a in node.args if a.keyword is None
        ):
            return snippet(node)
        return None


_TENSOR_CHECKS = frozenset({"isnan", "isinf", "isfinite", "isneginf", "isposinf"})


class _TensorCheckFinder(cst.CSTVisitor):
    """Finds ``torch.isnan(x)`` / ``x.isnan()`` (and isinf/isfinite) on a tensor-like name."""

    def __init__(self) -> None:
        self.found: cst.Call | None = None
        self.calls: list[cst.Call] = []  # every call in the test, to skip explicit syncs

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)
        name = call_name(node) or ""
        method = method_name(node)
        if name.startswith("torch.") and name.rsplit(".", 1)[-1] in _TENSOR_CHECKS:
            subject = node.args[0].value if node.args else None
        elif method in _TENSOR_CHECKS and not name.startswith(("math.", "np.", "numpy.")):
            subject = node.func.value
        else:
            return
        if subject is not None and any(is_tensorish_name(n) for n in names_in(subject)):
            self.found = self.found or node


def _mentions_tensor(expr: cst.BaseExpression) -> bool:
    """A tensor-like name is read, and no sync method inside would already be reported."""
    names = names_in(expr)
    return not (names & _SYNC_METHODS) and any(is_tensorish_name(n) for n in names)
