"""A bare or blanket except that swallows the error hides real failures.

What it does
Flags a bare ``except:`` (whatever its body), and an ``except Exception`` /
``except BaseException`` handler (alone or in a tuple) whose body does nothing but ``pass``,
``...``, ``continue``, return a constant (``return None``, ``return 0``, ``return []``) or log the
error (``logger.*``, ``logging.*``, ``warnings.warn``, ``print``)
without re-raising. A broad handler returning a constant inside a capability probe
(``is_*``, ``has_*``, ``can_*``, ``supports_*``: ``is_ninja_available``) is not flagged: answering
"no" on any failure is the probe's job. Narrow handlers that deliberately ignore one error
(``except FileNotFoundError: pass``) are not flagged.

Why is this bad?
A swallowed exception turns a crash with a traceback into wrong results with none: a shard that
failed to load is silently skipped, a NaN check that raised is ignored, and the agent sees a
"successful" run. A bare ``except:`` also catches ``KeyboardInterrupt`` and ``SystemExit``, so
the run cannot even be stopped cleanly.

Example
    try:
        shard = load_shard(path)
    except Exception:
        pass

Use instead
    try:
        shard = load_shard(path)
    except FileNotFoundError as exc:
        msg = f"{path}: shard missing; run `python -m nanochat.data prepare`"
        raise NanochatError(msg) from exc

Fix safety
A bare ``except:`` is rewritten to ``except Exception:``. The fix is unsafe: the handler stops
catching ``KeyboardInterrupt``, ``SystemExit`` and ``GeneratorExit``, which is usually the point
but changes behaviour. Swallowing handlers have no automatic fix.
"""

from __future__ import annotations

import re

import libcst as cst

from harness.findings import Edit
from harness.lint.rule import Rule
from rules._syntax import call_name, dotted, number_value

_DEFAULTED = "hides every error behind a default return value"
# Capability probes (is_ninja_available, has_triton) answer "no" on any failure by design.
_PROBE = re.compile(r"^_*(is|has|can|supports?)_")
_BROAD = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})
_LOGGERS = ("logger.", "log.", "logging.", "_logger.", "LOGGER.", "self.logger.", "self.log.")
_LOGGING_CALLS = frozenset({"warnings.warn", "print"})


class SwallowedException(Rule):
    code = "NC203"
    name = "swallowed-exception"
    severity = "error"
    message = "{handler} {problem}"
    fix_title = "Catch the specific exception and handle it, or let it propagate"
    fix_applicability = "sometimes"
    tags = ("correctness",)
    prefilter = ("except",)

    def __init__(self, context) -> None:
        super().__init__(context)
        self._functions: list[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.type is None:
            pos = self.position(node)
            col = pos.start.column + 1 + len("except")
            edit = Edit(pos.start.line, col, pos.start.line, col, " Exception")
            self.report(
                node,
                edits=(edit,),
                unsafe=True,
                handler="bare `except:`",
                problem="also catches KeyboardInterrupt and SystemExit",
            )
            return
        names = _caught(node.type)
        if not names & _BROAD:
            return
        problem = _swallow_kind(node.body)
        is_probe = bool(self._functions) and _PROBE.match(self._functions[-1]) is not None
        if problem == _DEFAULTED and is_probe:
            return
        if problem:
            caught = "/".join(sorted(names & _BROAD))
            self.report(node, handler=f"`except {caught}`", problem=problem)


def _caught(expr: cst.BaseExpression) -> set[str]:
    elements = expr.elements if isinstance(expr, cst.Tuple) else (expr,)
    names = set()
    for element in elements:
        value = element.value if isinstance(element, cst.Element) else element
        name = dotted(value)
        if name:
            names.add(name)
    return names


def _swallow_kind(body: cst.BaseSuite) -> str | None:
    """Why the handler body swallows the error, or None when it does something with it."""
    statements = body.body if isinstance(body, cst.IndentedBlock) else (body,)
    smalls: list[cst.BaseSmallStatement] = []
    for statement in statements:
        if not isinstance(statement, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            return None
        smalls.extend(statement.body)
    logged = defaulted = False
    for small in smalls:
        if isinstance(small, (cst.Pass, cst.Continue)):
            continue
        if isinstance(small, cst.Return) and _is_constant(small.value):
            defaulted = True
            continue
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis):
            continue
        if (
            isinstance(small, cst.Expr)
            and isinstance(small.value, cst.Call)
            and _is_logging(small.value)
        ):
            logged = True
            continue
        return None
    if defaulted:
        return _DEFAULTED
    return "only logs the error and carries on" if logged else "silently swallows every error"


def _is_constant(value: cst.BaseExpression | None) -> bool:
    """``return``, ``return None/True/False``, a literal, or an empty container."""
    if value is None:
        return True
    if isinstance(value, cst.Name):
        return value.value in ("None", "True", "False")
    if isinstance(value, cst.SimpleString) or number_value(value) is not None:
        return True
    if isinstance(value, (cst.List, cst.Tuple, cst.Dict, cst.Set)):
        return not value.elements
    return False


def _is_logging(call: cst.Call) -> bool:
    name = call_name(call) or ""
    return name in _LOGGING_CALLS or name.startswith(_LOGGERS)
