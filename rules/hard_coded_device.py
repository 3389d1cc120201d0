"""A device string written in code breaks the run on other hardware.

What it does
Flags a device named in code outside the device-detection and config modules: the strings
``"cuda"``, ``"cuda:N"``, ``f"cuda:{rank}"``, ``"mps"``, ``"xpu"`` or ``"xla"`` passed to
``torch.device(...)``,
``.to(...)``, a ``device=`` / ``map_location=`` keyword, a parameter default or an assignment
to a name containing ``device``; and ``.cuda()`` calls. ``"cpu"`` is not flagged (moving
results to the host is a legitimate, device-independent act), nor are comparisons such as
``device.type == "cuda"`` (they inspect a detected device). Inline detection
(``"cuda" if torch.cuda.is_available() else "cpu"``) is flagged: detection lives in one module.

Why is this bad?
A hard-coded device makes the code fail or silently fall back on other hardware (a CPU-only
CI runner, an Apple laptop, a second GPU under torchrun where each rank needs ``cuda:RANK``).
One place decides the device; everything else receives it.

Example
    model = GPT(config).to("cuda")
    x = x.cuda()

Use instead
    device = detect_device(cfg.device)  # nanochat/device.py
    model = GPT(config).to(device)
    x = x.to(device)

Fix safety
No automatic fix: the device has to be threaded in from the caller.

Options
allowed_paths: path globs where naming a device is the module's job (default: the config and
device-detection modules, test code and benchmarks).
"""

from __future__ import annotations

import re

import libcst as cst

from harness.lint.rule import Option, Rule
from rules._syntax import (
    TEST_PATHS,
    call_name,
    dotted,
    method_name,
    positional,
    string_value,
)

_DEVICE = re.compile(r"^(cuda|mps|xpu|xla|hpu)(:\d+)?$")
_DEVICE_PREFIX = re.compile(r"^(cuda|mps|xpu|xla|hpu):")  # f"cuda:{rank}"
_EMPTY = cst.Module(body=[])
_DEVICE_KEYWORDS = frozenset({"device", "map_location"})
_CUDA_METHOD_TARGET = "cuda"  # what a bare .cuda() call moves to


class HardCodedDevice(Rule):
    code = "NC104"
    name = "hard-coded-device"
    severity = "error"
    message = "device {device!r} hard-coded {where}"
    fix_title = (
        "Take the device from the caller (nanochat.device.detect_device / TrainConfig.device)"
    )
    tags = ("portability", "configuration")
    prefilter = ("cuda", "mps", "xpu", "xla", "hpu")
    exempt_paths_option = "allowed_paths"
    options = {
        "allowed_paths": Option(
            default=("*/config.py", "*/device.py", "*/devices.py", "*/benchmarks/*", *TEST_PATHS),
            doc="path globs where naming a device is allowed",
            kind=(tuple, list),
        )
    }

    def __init__(self, context) -> None:
        super().__init__(context)
        self._functions: list[str] = ["<module>"]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(node.name.value)
        for param in (*node.params.params, *node.params.kwonly_params):
            if param.default is not None and "device" in param.name.value:
                self._check_literal(param.default)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()

    def visit_Call(self, node: cst.Call) -> None:
        name = call_name(node)
        if method_name(node) == "cuda" and not positional(node):
            self.report(node, device=_CUDA_METHOD_TARGET, where=self._where())
            return
        if name in ("torch.device", "device") or method_name(node) == "to":
            for arg in positional(node)[:1]:
                self._check_literal(arg.value)
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in _DEVICE_KEYWORDS:
                self._check_literal(arg.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        targets = [dotted(t.target) or "" for t in node.targets]
        if any("device" in t.rsplit(".", 1)[-1].lower() for t in targets):
            self._check_literal(node.value)

    def _where(self) -> str:
        function = self._functions[-1]
        return "at module level" if function == "<module>" else f"in {function}()"

    def _check_literal(self, expr: cst.BaseExpression) -> None:
        if isinstance(expr, cst.IfExp):
            self._check_literal(expr.body)
            self._check_literal(expr.orelse)
            return
        value = string_value(expr)
        if value is not None and _DEVICE.match(value):
            self.report(expr, device=value, where=self._where())
        elif isinstance(expr, cst.FormattedString) and expr.parts:
            first = expr.parts[0]
            if isinstance(first, cst.FormattedStringText) and _DEVICE_PREFIX.match(first.value):
                self.report(expr, device=_EMPTY.code_for_node(expr), where=self._where())
