"""Moving tensors between devices inside forward() costs a copy on every call.

What it does
Flags device transfers inside a module's ``forward`` method: ``.cuda()``, ``.cpu()``, and
``.to(...)`` whose argument is a device (a string such as ``"cuda"``, a name or attribute ending
in ``device`` such as ``self.device`` or ``x.device``, or a ``device=`` keyword). Dtype casts such
as ``.to(torch.bfloat16)`` or ``.to(x.dtype)`` are fine.

Why is this bad?
``forward`` runs on every step. A transfer there either copies a tensor between host and device
each call (slow, and synchronising when the source is pageable host memory) or hides the fact
that a buffer was created on the wrong device. Placement belongs to construction time:
``model.to(device)`` once, buffers registered with ``register_buffer`` so they move with it.

Example
    class Rotary(nn.Module):
        def forward(self, x):
            cos = self.cos[: x.size(1)].to(x.device)
            return x * cos

Use instead
    class Rotary(nn.Module):
        def __init__(self, cos):
            super().__init__()
            self.register_buffer("cos", cos, persistent=False)

        def forward(self, x):
            return x * self.cos[: x.size(1)]

Fix safety
No automatic fix: the tensor must be created on the right device (or registered as a buffer)
where it is built, which is elsewhere.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._syntax import (
    TEST_PATHS,
    dotted,
    keyword,
    method_name,
    positional,
    snippet,
    string_value,
)


class DeviceTransferInForward(Rule):
    code = "NC103"
    name = "device-transfer-in-forward"
    severity = "warning"
    message = "`{call}` moves a tensor between devices inside {cls}.forward()"
    fix_title = (
        "Place the tensor on its device at construction (register_buffer or model.to(device))"
    )
    tags = ("performance", "model")
    prefilter = (".to(", ".cuda(", ".cpu(")
    exclude = TEST_PATHS

    def __init__(self, context) -> None:
        super().__init__(context)
        self._classes: list[str] = []
        self._forward_depth = 0

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value == "forward" and self._classes:
            self._forward_depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        if original_node.name.value == "forward" and self._classes:
            self._forward_depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if self._forward_depth and _is_transfer(node):
            self.report(node, call=snippet(node), cls=self._classes[-1])


def _is_transfer(node: cst.Call) -> bool:
    method = method_name(node)
    if method in ("cuda", "cpu"):
        return True
    if method != "to":
        return False
    if keyword(node, "device") is not None:
        return True
    args = positional(node)
    if not args:
        return False
    first = args[0].value
    if string_value(first) is not None:
        return True
    name = dotted(first)
    return name is not None and name.rsplit(".", 1)[-1].lower().endswith("device")
