"""A tensor built on the host and then moved costs an extra copy.

What it does
Flags a tensor built by a torch factory (``torch.tensor``, ``zeros``, ``ones``, ``empty``,
``full``, ``arange``, ``linspace``, ``eye``, ``rand``, ``randn``, ``randint``...) without a
``device=`` argument and moved straight away with ``.to(device)`` or ``.cuda()``.

Why is this bad?
The tensor is first allocated and filled in host memory, then copied to the accelerator: two
allocations and a host-to-device transfer where one allocation on the device would do. Inside
a training step or a model's forward this is a per-step copy.

Example
    mask = torch.ones(T, T, dtype=torch.bool).to(device)

Use instead
    mask = torch.ones(T, T, dtype=torch.bool, device=device)

Fix safety
The fix moves the device into the factory call when ``.to()`` has exactly one positional
device argument. It is safe for deterministic factories and unsafe for random ones
(``rand``, ``randn``, ``randint``, ``randperm``, ``normal``): sampling on the device draws from
a different generator, so the values change.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._syntax import (
    TEST_PATHS,
    call_name,
    delete_between,
    dotted,
    insert_at_end,
    keyword,
    method_name,
    positional,
    string_value,
)

_DETERMINISTIC = frozenset(
    {
        "tensor",
        "as_tensor",
        "zeros",
        "ones",
        "empty",
        "full",
        "arange",
        "linspace",
        "logspace",
        "eye",
    }
)
_RANDOM = frozenset({"rand", "randn", "randint", "randperm", "normal"})


class TensorCreatedThenMoved(Rule):
    code = "NC105"
    name = "tensor-created-then-moved"
    severity = "warning"
    message = "`torch.{factory}(...)` is built on the host and then copied by `{move}`"
    fix_title = "Pass device= to the factory instead of moving the result"
    fix_applicability = "sometimes"
    tags = ("performance",)
    prefilter = (".to(", ".cuda(")
    exclude = TEST_PATHS

    def visit_Call(self, node: cst.Call) -> None:
        move = method_name(node)
        if move not in ("to", "cuda") or not isinstance(node.func.value, cst.Call):
            return
        inner = node.func.value
        name = call_name(inner) or ""
        factory = name.removeprefix("torch.")
        if not name.startswith("torch.") or factory not in _DETERMINISTIC | _RANDOM:
            return
        if keyword(inner, "device") is not None:
            return
        device = _device_argument(node) if move == "to" else cst.SimpleString('"cuda"')
        if move == "to" and device is None:
            return
        move_text = ".cuda()" if move == "cuda" else f".to({dotted(device) or '...'})"
        edits = None
        if move == "to" and len(node.args) == 1 and not any(a.star for a in inner.args):
            device_code = _EMPTY.code_for_node(device)
            if inner.args:
                insert = insert_at_end(
                    self.position(inner.args[-1].value), f", device={device_code}"
                )
            else:
                insert = insert_at_end(self.position(inner), f"device={device_code}", back=1)
            edits = (insert, delete_between(self.position(inner), self.position(node)))
        self.report(node, edits=edits, unsafe=factory in _RANDOM, factory=factory, move=move_text)


def _device_argument(node: cst.Call) -> cst.BaseExpression | None:
    """The device passed to ``.to()``, when it is clearly a device (not a dtype or a tensor)."""
    by_keyword = keyword(node, "device")
    if by_keyword is not None:
        return by_keyword.value
    args = positional(node)
    if len(args) != 1:
        return None
    value = args[0].value
    if string_value(value) is not None:
        return value
    name = dotted(value)
    if name is not None and name.rsplit(".", 1)[-1].lower().endswith("device"):
        return value
    return None


_EMPTY = cst.Module(body=[])
