"""
What it does
Flags a function parameter whose default value is a mutable literal (list, dict or set).

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

_MUTABLE = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)


class MutableDefaultArgument(Rule):
    code = "NC205"
    name = "mutable-default-argument"
    severity = "error"
    message = "parameter {param!r} of {function}() defaults to a mutable {kind}"
    fix_title = "Default to None and create the object inside the function"
    tags = ("correctness",)
    prefilter = ("=[", "= [", "={", "= {", "=set(", "= set(", "=dict(", "=list(")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = [*node.params.params, *node.params.kwonly_params, *node.params.posonly_params]
        for param in params:
            default = param.default
            is_call = (
                isinstance(default, cst.Call)
                and isinstance(default.func, cst.Name)
                and default.func.value in ("list", "dict", "set")
            )
            if isinstance(default, _MUTABLE) or is_call:
                kind = type(default).__name__.lower() if not is_call else default.func.value + "()"
                self.report(default, param=param.name.value, function=node.name.value, kind=kind)
