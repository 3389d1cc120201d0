"""Writing through .data bypasses autograd and silently breaks gradients.

What it does
Flags writes through ``.data``: assigning to ``x.data``, augmented assignment to ``x.data``, and
in-place methods called on it (``p.data.mul_(...)``, ``p.data.copy_(...)``,
``p.data[...] = ...``).

Why is this bad?
``.data`` hands back the same storage with autograd switched off and without the version
counter bump that protects saved tensors. A mutation through it is invisible to autograd: if
the tensor was saved for backward, gradients are computed from the new values silently,
instead of raising the usual "modified by an inplace operation" error. ``torch.no_grad()``
expresses the same intent and keeps the safety checks.

Example
    for p in model.parameters():
        p.data.mul_(1 - lr * weight_decay)

Use instead
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1 - lr * weight_decay)

Fix safety
No automatic fix: the surrounding code must be wrapped in ``torch.no_grad()``, and whether the
autograd checks will now (correctly) raise depends on the caller.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._syntax import snippet


class TensorDataMutation(Rule):
    code = "NC204"
    name = "tensor-data-mutation"
    severity = "warning"
    message = "`{site}` mutates a tensor through .data, bypassing autograd's checks"
    fix_title = "Mutate the tensor itself inside `with torch.no_grad():`"
    tags = ("correctness", "autograd")
    prefilter = (".data",)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if _writes_data(target.target):
                self.report(target.target, site=snippet(target.target) + " = ...")

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if _writes_data(node.target):
            self.report(node.target, site=snippet(node))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value.endswith("_")
            and not func.attr.value.startswith("_")
            and _is_data(func.value)
        ):
            self.report(node, site=snippet(node))


def _is_data(node: cst.BaseExpression) -> bool:
    """``<expr>.data`` where <expr> is not ``self``/``cls`` (a class's own ``data`` field)."""
    if not (isinstance(node, cst.Attribute) and node.attr.value == "data"):
        return False
    return not (isinstance(node.value, cst.Name) and node.value.value in ("self", "cls"))


def _writes_data(target: cst.BaseExpression) -> bool:
    if isinstance(target, cst.Subscript):
        return _is_data(target.value)
    return _is_data(target)
