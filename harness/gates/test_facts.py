"""What a test file promises, read with ``ast``: its tests, their assertions, skips and tolerances.

The test-integrity gate compares these facts between the base ref and the working tree; a test
that asserts less, is skipped, or tolerates more than before has been weakened.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

SKIP_NAMES = {"skip", "skipif", "xfail", "skipIf", "skipUnless", "expectedFailure"}
SKIP_CALLS = {"skip", "xfail", "importorskip", "skipTest"}
ASSERT_CALLS = {"raises", "warns", "deprecated_call"}  # pytest context managers that assert

# Tolerance-taking functions -> positional index of each tolerance argument.
TOLERANCE_POSITIONS: dict[str, dict[str, int]] = {
    "allclose": {"rtol": 2, "atol": 3},
    "isclose": {"rtol": 2, "atol": 3},
    "assert_allclose": {"rtol": 2, "atol": 3},
    "assert_close": {},
    "approx": {"rel": 1, "abs": 2},
    "assertAlmostEqual": {"places": 2},
    "assertNotAlmostEqual": {},
    "assert_array_almost_equal": {"decimal": 2},
    "assert_almost_equal": {"decimal": 2},
}
TOLERANCE_KEYWORDS = {
    "rtol",
    "atol",
    "rel",
    "abs",
    "rel_tol",
    "abs_tol",
    "places",
    "delta",
    "decimal",
}
# Keywords where a larger number is stricter (digits of agreement), not looser.
DIGIT_KEYWORDS = {"places", "decimal"}
# The tolerance a call has when the keyword is absent, so adding a loose one is caught too.
DEFAULT_TOLERANCE: dict[tuple[str, str], float] = {
    ("allclose", "rtol"): 1e-5,
    ("allclose", "atol"): 1e-8,
    ("isclose", "rtol"): 1e-5,
    ("isclose", "atol"): 1e-8,
    ("isclose", "rel_tol"): 1e-9,
    ("isclose", "abs_tol"): 0.0,
    ("assert_allclose", "rtol"): 1e-7,
    ("assert_allclose", "atol"): 0.0,
    ("assert_close", "rtol"): 1.3e-6,  # torch's float32 default
    ("assert_close", "atol"): 1e-5,
    ("approx", "rel"): 1e-6,
    ("approx", "abs"): 1e-12,
    ("assertAlmostEqual", "places"): 7,
    ("assert_array_almost_equal", "decimal"): 6,
    ("assert_almost_equal", "decimal"): 7,
}


@dataclass(frozen=True)
class Tolerance:
    function: str
    keyword: str
    value: float
    line: int
    col: int


@dataclass
class CaseFacts:
    """Facts about one test function (``Class.test_name`` for methods)."""

    name: str
    line: int
    asserts: int = 0
    skips: int = 0
    cases: int = 1  # parametrized cases: the product of each literal parametrize list's length
    tolerances: list[Tolerance] = field(default_factory=list)


@dataclass
class FileFacts:
    tests: dict[str, CaseFacts]
    module_skips: int
    module_skip_line: int


def _last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return _last_name(node.func)
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _count_skip_marks(expr: ast.AST) -> int:
    """skip/skipif/xfail names anywhere in a decorator or ``pytestmark`` expression."""
    return sum(
        1
        for node in ast.walk(expr)
        if isinstance(node, ast.Attribute | ast.Name) and _last_name(node) in SKIP_NAMES
    )


def _number(node: ast.AST) -> float | None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _tolerances(call: ast.Call) -> list[Tolerance]:
    function = _last_name(call.func)
    if function not in TOLERANCE_POSITIONS:
        return []
    found = []
    for keyword in call.keywords:
        value = _number(keyword.value) if keyword.arg in TOLERANCE_KEYWORDS else None
        if value is not None:
            node = keyword.value
            found.append(Tolerance(function, keyword.arg, value, node.lineno, node.col_offset + 1))
    for keyword, index in TOLERANCE_POSITIONS[function].items():
        value = _number(call.args[index]) if index < len(call.args) else None
        if value is not None:
            node = call.args[index]
            found.append(Tolerance(function, keyword, value, node.lineno, node.col_offset + 1))
    return found


def _facts_of(
    func: ast.FunctionDef | ast.AsyncFunctionDef, name: str, class_skips: int
) -> CaseFacts:
    facts = CaseFacts(name=name, line=func.lineno, skips=class_skips)
    facts.skips += sum(_count_skip_marks(d) for d in func.decorator_list)
    for decorator in func.decorator_list:
        facts.cases *= _parametrized_cases(decorator)
    for node in ast.walk(func):
        if isinstance(node, ast.Assert):
            facts.asserts += 1
        elif isinstance(node, ast.Call):
            called = _last_name(node.func)
            if called.startswith("assert") or called in ASSERT_CALLS:
                facts.asserts += 1
            if called in SKIP_CALLS:
                facts.skips += 1
            facts.tolerances.extend(_tolerances(node))
    return facts


def _parametrized_cases(decorator: ast.expr) -> int:
    """How many cases ``@pytest.mark.parametrize(names, [..])`` makes (1 when not countable)."""
    is_parametrize = isinstance(decorator, ast.Call) and _last_name(decorator.func) == "parametrize"
    if not is_parametrize or len(decorator.args) < 2:
        return 1
    values = decorator.args[1]
    return len(values.elts) if isinstance(values, ast.List | ast.Tuple) and values.elts else 1


def _is_test(name: str) -> bool:
    return name.startswith("test")


def file_facts(source: str) -> FileFacts | None:
    """The tests in ``source`` with their facts, or None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    tests: dict[str, CaseFacts] = {}
    module_skips, module_skip_line = 0, 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_test(node.name):
            tests[node.name] = _facts_of(node, node.name, 0)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            class_skips = sum(_count_skip_marks(d) for d in node.decorator_list)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _is_test(item.name):
                    name = f"{node.name}.{item.name}"
                    tests[name] = _facts_of(item, name, class_skips)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            module_skips += _count_skip_marks(node.value)
            module_skip_line = node.lineno
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            if _last_name(node.value.func) in SKIP_CALLS:
                module_skips += 1
                module_skip_line = node.lineno
    return FileFacts(tests, module_skips, module_skip_line)


def is_looser(keyword: str, new: float, old: float) -> bool:
    return new < old if keyword in DIGIT_KEYWORDS else new > old


def loosened(base: CaseFacts, new: CaseFacts) -> list[tuple[Tolerance, float]]:
    """Tolerances in ``new`` looser than the same call's (or the default) in ``base``."""

    def keyed(facts: CaseFacts) -> dict[tuple[str, str, int], Tolerance]:
        seen: dict[tuple[str, str], int] = {}
        out = {}
        for tol in facts.tolerances:
            index = seen.get((tol.function, tol.keyword), 0)
            seen[(tol.function, tol.keyword)] = index + 1
            out[(tol.function, tol.keyword, index)] = tol
        return out

    old_by_key, result = keyed(base), []
    for key, tol in keyed(new).items():
        old = old_by_key.get(key)
        old_value = old.value if old else DEFAULT_TOLERANCE.get((tol.function, tol.keyword))
        if old_value is not None and is_looser(tol.keyword, tol.value, old_value):
            result.append((tol, old_value))
    return result
