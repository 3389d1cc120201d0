"""Syntax predicates shared by the rules: dotted names, literal values, step loops, logging guards.

Not a rule module (it defines no Rule subclass); the registry skips it. Everything here is a pure
function of libcst nodes, so rules stay small and agree on what "the step loop" or "a logging
guard" means.
"""

from __future__ import annotations

import ast
import re

import libcst as cst
from libcst.metadata import CodeRange

from harness.findings import Edit

# Test code: rules about training-code performance and layering do not apply here.
TEST_PATHS = (
    "tests/*",
    "*/tests/*",
    "test/*",
    "*/test/*",
    "*/testing/*",
    "test_*.py",
    "*/test_*.py",
    "*_test.py",
    "conftest.py",
    "*/conftest.py",
)
# A loop counts as the training step loop when its target has one of these names ...
STEP_LOOP_TARGETS = frozenset(
    {"step", "it", "itr", "iteration", "global_step", "train_step", "micro_step"}
)
# ... or when it iterates over something named like a step count (range(num_steps), max_iters) ...
_STEP_COUNT_NAME = re.compile(
    r"^((num|max|total|n|train)_)?(steps|iters|iterations)$"
    r"|^(num_train_steps|train_loader|trainloader)$",
    re.IGNORECASE,
)
_COUNTING_CALLS = frozenset({"range", "trange", "tqdm", "enumerate", "islice", "zip"})
# ... or when its body calls .backward() or .step() on a receiver whose name matches this.
_OPTIMIZER_RECEIVER = re.compile(r"(optim|opt\b|opt_|^opt|scaler)", re.IGNORECASE)
# Names in an `if` test that mark a logging / evaluation / checkpoint branch.
_GUARD_NAME = re.compile(
    r"(log|eval|every|interval|verbose|debug|report|print|checkpoint|save|last|final|done)",
    re.IGNORECASE,
)
# Name parts that almost always mean a tensor in training code (used where types are unknowable),
# unless the name ends in a part that means a count, size or label (grad_accum_steps, loss_fn).
_TENSOR_PARTS = frozenset(
    {
        "loss",
        "losses",
        "logit",
        "logits",
        "grad",
        "grads",
        "norm",
        "norms",
        "acc",
        "accuracy",
        "bpb",
        "ppl",
    }
)
_NON_TENSOR_ENDINGS = frozenset(
    {
        "steps",
        "step",
        "count",
        "every",
        "size",
        "dim",
        "idx",
        "index",
        "interval",
        "fn",
        "type",
        "name",
    }
    | {"names", "path", "dir", "file", "mode", "scale", "kind", "key", "keys", "clip"}
)


def dotted(node: cst.CSTNode | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def call_name(call: cst.Call) -> str | None:
    return dotted(call.func)


def method_name(call: cst.Call) -> str | None:
    """The attribute called, for ``x.attr(...)`` calls; None for plain function calls."""
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def positional(call: cst.Call) -> list[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


def string_value(node: cst.CSTNode | None) -> str | None:
    """The value of a plain (non-f) string literal, else None."""
    if isinstance(node, cst.SimpleString):
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, str) else None
    return None


def number_value(node: cst.CSTNode | None) -> int | float | None:
    """The value of an int/float literal, including a negated one, else None."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = number_value(node.expression)
        return None if inner is None else -inner
    if isinstance(node, (cst.Integer, cst.Float)):
        return ast.literal_eval(node.value)
    return None


def decorator_names(node: cst.FunctionDef | cst.ClassDef) -> set[str]:
    """Dotted decorator names, calls unwrapped (``@torch.no_grad()`` -> ``torch.no_grad``)."""
    names = set()
    for deco in node.decorators:
        expr = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
        name = dotted(expr)
        if name:
            names.add(name)
    return names


def docstring_node(body: cst.BaseSuite) -> cst.SimpleString | cst.ConcatenatedString | None:
    """The docstring expression of a function/class/module body, if it has one."""
    statements = body.body if isinstance(body, cst.IndentedBlock) else ()
    if not statements or not isinstance(statements[0], cst.SimpleStatementLine):
        return None
    first = statements[0].body[0] if statements[0].body else None
    if isinstance(first, cst.Expr) and isinstance(
        first.value, (cst.SimpleString, cst.ConcatenatedString)
    ):
        return first.value
    return None


class _NameCollector(cst.CSTVisitor):
    """Every Name value and attribute name in an expression, including inside f-strings."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def is_tensorish_name(name: str) -> bool:
    """Whether a variable name reads as a tensor in training code (``train_loss``)."""
    parts = [p for p in re.split(r"_|(?<=[a-z])(?=[A-Z])", name.lower()) if p]
    if not parts or parts[-1] in _NON_TENSOR_ENDINGS:
        return False
    return any(p in _TENSOR_PARTS for p in parts)


def names_in(node: cst.CSTNode) -> set[str]:
    collector = _NameCollector()
    node.visit(collector)
    return collector.names


class _TrainingCallFinder(cst.CSTVisitor):
    """Finds .backward() or optimizer.step() calls, without entering nested functions/classes."""

    def __init__(self) -> None:
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> bool:
        method = method_name(node)
        if method == "backward":
            self.found = True
        elif method == "step":
            receiver = dotted(node.func.value) or ""
            if _OPTIMIZER_RECEIVER.search(receiver.rsplit(".", 1)[-1]):
                self.found = True
        return not self.found


def is_step_loop(loop: cst.For | cst.While) -> bool:
    """Whether ``loop`` is (or encloses) the training step loop; see STEP_LOOP_TARGETS.

    A loop over a literal list/tuple/set (``for lr in [1e-3, 1e-4]``) or an
    ``itertools.product(...)`` is a sweep over configurations, never the step loop.
    """
    if isinstance(loop, cst.For) and _is_sweep(loop.iter):
        return False
    if isinstance(loop, cst.For):
        targets = loop.target.elements if isinstance(loop.target, cst.Tuple) else (loop.target,)
        for target in targets:
            value = target.value if isinstance(target, cst.Element) else target
            if isinstance(value, cst.Name) and value.value in STEP_LOOP_TARGETS:
                return True
    if _names_step_count(loop.iter if isinstance(loop, cst.For) else loop.test):
        return True
    finder = _TrainingCallFinder()
    loop.body.visit(finder)
    return finder.found


def _is_sweep(expr: cst.BaseExpression) -> bool:
    """A literal collection, or ``product(...)`` of them: a loop over configurations."""
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return True
    if isinstance(expr, cst.Call) and (call_name(expr) or "").rsplit(".", 1)[-1] == "product":
        return True
    return False


def _names_step_count(header: cst.CSTNode) -> bool:
    """``range(num_steps)``, ``enumerate(train_loader)``, ``step < cfg.max_iters``: a step count
    inside a counting call or a ``while`` test (not ``for s in state_steps``)."""
    if isinstance(header, cst.Call):
        if (call_name(header) or "").rsplit(".", 1)[-1] in _COUNTING_CALLS:
            return any(_names_step_count(arg.value) for arg in header.args)
        return False
    name = dotted(header)
    if name is not None:
        return bool(_STEP_COUNT_NAME.match(name.rsplit(".", 1)[-1]))
    return any(_names_step_count(child) for child in header.children)


def is_logging_guard(test: cst.BaseExpression) -> bool:
    """Whether an ``if`` test marks a periodic logging/eval branch (a ``%`` or a log-ish name)."""
    if _has_modulo(test):
        return True
    return any(_GUARD_NAME.search(name) for name in names_in(test))


def _has_modulo(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        return True
    return any(_has_modulo(child) for child in node.children)


def is_main_guard(test: cst.BaseExpression) -> bool:
    """``__name__ == "__main__"`` (either operand order)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    right = test.comparisons[0].comparator
    sides = {dotted(test.left), string_value(test.left), dotted(right), string_value(right)}
    return "__name__" in sides and "__main__" in sides


_EMPTY = cst.Module(body=[])


def snippet(node: cst.CSTNode, limit: int = 48) -> str:
    """The node's source on one line, shortened to ``limit`` characters for a message."""
    text = " ".join(_EMPTY.code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def insert_at_end(pos: CodeRange, text: str, back: int = 0) -> Edit:
    """An Edit inserting ``text`` at the end of a node's range, ``back`` code points earlier."""
    col = pos.end.column + 1 - back
    return Edit(pos.end.line, col, pos.end.line, col, text)


def delete_between(start: CodeRange, end: CodeRange) -> Edit:
    """An Edit deleting the text from the end of ``start`` to the end of ``end``."""
    return Edit(start.end.line, start.end.column + 1, end.end.line, end.end.column + 1, "")
