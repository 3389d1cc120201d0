"""A mutable default argument is shared between calls.

What it does
Flags a function parameter whose default value is a mutable object: a list, dict or set literal
or comprehension, or a call that builds one (``list()``, ``dict()``, ``set()``, ``bytearray()``,
``collections.defaultdict()``, ``deque()``, ``OrderedDict()``, ``Counter()``). Lambdas count too.

Why is this bad?
Python evaluates a default once, when the function is defined, so every call shares and mutates
the same object. State leaks between calls (a list of losses that keeps growing across runs).

Example
    def log_losses(loss, history=[]):
        history.append(loss)

Use instead
    def log_losses(loss, history=None):
        history = [] if history is None else history
        history.append(loss)

Fix safety
No automatic fix: the body must create the fresh object, which changes the code's shape.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._syntax import call_name

_MUTABLE = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)
_MUTABLE_CALLS = frozenset(
    {"list", "dict", "set", "bytearray", "defaultdict", "deque", "OrderedDict", "Counter"}
)


class MutableDefaultArgument(Rule):
    code = "NC205"
    name = "mutable-default-argument"
    severity = "error"
    message = "parameter {param!r} of {function} defaults to a mutable {kind}"
    fix_title = "Default to None and create the object inside the function"
    tags = ("correctness",)
    prefilter = (
        "=[",
        "= [",
        "={",
        "= {",
        "set(",
        "dict(",
        "list(",
        "bytearray(",
        "deque(",
        "Counter(",
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._check(node.params, f"{node.name.value}()")

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._check(node.params, "lambda")

    def _check(self, parameters: cst.Parameters, function: str) -> None:
        for param in (*parameters.posonly_params, *parameters.params, *parameters.kwonly_params):
            default = param.default
            if isinstance(default, _MUTABLE):
                kind = type(default).__name__.lower()
            elif (
                isinstance(default, cst.Call)
                and (call_name(default) or "").rsplit(".", 1)[-1] in _MUTABLE_CALLS
            ):
                kind = f"{call_name(default)}()"
            else:
                continue
            self.report(default, param=param.name.value, function=function, kind=kind)
