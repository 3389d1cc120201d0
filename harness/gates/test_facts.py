"""What a test file promises, read with ``ast``: its tests, their assertions, skips and tolerances.

The test-integrity gate compares these facts between the base ref and the working tree; a test
that asserts less, is skipped, or tolerates more than before has been weakened. Each assertion
is graded: ``exact`` (compares with an expected value, or a predicate call such as
``torch.equal``), ``weak`` (truthiness, ``is not None``, a type check) or ``constant`` (always
true: ``assert True``, ``assert x == x``, a non-empty tuple). A constant assertion checks nothing
and does not count as one.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field

SKIP_NAMES = {"skip", "skipif", "xfail", "skipIf", "skipUnless", "expectedFailure"}
SKIP_CALLS = {"skip", "xfail", "importorskip", "skipTest"}
ASSERT_CALLS = {"raises", "warns", "deprecated_call"}  # pytest context managers that assert
RAISES_CALLS = {"raises", "assertRaises", "assertRaisesRegex"}
BROAD_EXCEPTIONS = {"Exception", "BaseException"}
# Calls whose truth says only that a value exists or has a type, not that it is right.
WEAK_PREDICATES = {"isinstance", "issubclass", "hasattr", "callable", "bool", "len", "type"}
# unittest assert methods that check existence, truthiness or type only.
WEAK_ASSERT_METHODS = {
    "assertTrue",
    "assertFalse",
    "assertIsNotNone",
    "assertIsInstance",
    "assertNotIsInstance",
}
# Comparisons that always hold when both sides are the same expression.
_REFLEXIVE = (ast.Eq, ast.Is, ast.LtE, ast.GtE)
_OPERATORS = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}

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


@dataclass(frozen=True)
class Assertion:
    """One assertion: where it is, its source text and its grade (exact, weak or constant)."""

    line: int
    col: int
    text: str
    grade: str


@dataclass(frozen=True)
class Raises:
    """One ``pytest.raises``/``assertRaises``: the exception names it accepts and ``match=``."""

    line: int
    col: int
    exceptions: tuple[str, ...]
    has_match: bool

    @property
    def is_broad(self) -> bool:
        return any(e in BROAD_EXCEPTIONS for e in self.exceptions)


@dataclass
class CaseFacts:
    """Facts about one test function (``Class.test_name`` for methods)."""

    name: str
    line: int
    asserts: int = 0  # real assertions: exact or weak (constant ones check nothing)
    skips: int = 0
    cases: int = 1  # parametrized cases: the product of each literal parametrize list's length
    tolerances: list[Tolerance] = field(default_factory=list)
    assertions: list[Assertion] = field(default_factory=list)
    raises: list[Raises] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)  # project functions called, fully qualified

    def graded(self, grade: str) -> list[Assertion]:
        return [a for a in self.assertions if a.grade == grade]


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
    func: ast.FunctionDef | ast.AsyncFunctionDef,
    name: str,
    class_skips: int,
    imports: dict[str, str],
) -> CaseFacts:
    facts = CaseFacts(name=name, line=func.lineno, skips=class_skips)
    facts.skips += sum(_count_skip_marks(d) for d in func.decorator_list)
    for decorator in func.decorator_list:
        facts.cases *= _parametrized_cases(decorator)
    local_imports = {**imports, **_imports(func.body)}
    for node in (n for statement in func.body for n in ast.walk(statement)):
        if isinstance(node, ast.Assert):
            grade = grade_expression(node.test)
            facts.assertions.append(_assertion(node, grade))
        elif isinstance(node, ast.Call):
            called = _last_name(node.func)
            if called.startswith("assert") or called in ASSERT_CALLS:
                facts.assertions.append(_assertion(node, grade_call(node)))
            if called in RAISES_CALLS:
                facts.raises.append(_raises(node))
            if called in SKIP_CALLS:
                facts.skips += 1
            facts.tolerances.extend(_tolerances(node))
            qualified = _qualified(node.func, local_imports)
            if qualified:
                facts.calls.add(qualified)
    facts.asserts = sum(1 for a in facts.assertions if a.grade != "constant")
    return facts


def _assertion(node: ast.AST, grade: str) -> Assertion:
    text = " ".join(ast.unparse(node).split())
    return Assertion(node.lineno, node.col_offset + 1, text, grade)


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a) == ast.dump(b)


def is_constant_true(expr: ast.expr) -> bool:
    """Whether ``expr`` holds whatever the code under test does."""
    if isinstance(expr, ast.Constant):
        return bool(expr.value)
    if isinstance(expr, ast.Tuple | ast.List | ast.Set | ast.Dict):
        return bool(expr.elts if not isinstance(expr, ast.Dict) else expr.keys)
    if isinstance(expr, ast.Lambda | ast.JoinedStr):
        return isinstance(expr, ast.Lambda) or any(
            isinstance(v, ast.Constant) and v.value for v in expr.values
        )
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        return isinstance(expr.operand, ast.Constant) and not expr.operand.value
    if isinstance(expr, ast.BoolOp):
        verdicts = [is_constant_true(v) for v in expr.values]
        return any(verdicts) if isinstance(expr.op, ast.Or) else all(verdicts)
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        left, right = expr.left, expr.comparators[0]
        if isinstance(expr.ops[0], _REFLEXIVE) and _same(left, right):
            return True
        compare = _OPERATORS.get(type(expr.ops[0]))
        if compare and isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
            try:
                return bool(compare(left.value, right.value))
            except TypeError:  # 1 < "a" raises: not constant-true
                return False
    return False


def _is_type_check(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and _last_name(expr.func) == "type"


def grade_expression(expr: ast.expr) -> str:
    """``exact``, ``weak`` or ``constant`` for the expression an ``assert`` tests."""
    if is_constant_true(expr):
        return "constant"
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        return "exact" if grade_expression(expr.operand) == "exact" else "weak"
    if isinstance(expr, ast.BoolOp):
        grades = [grade_expression(v) for v in expr.values]
        if isinstance(expr.op, ast.And):
            return "exact" if "exact" in grades else "weak"
        return "exact" if all(g == "exact" for g in grades) else "weak"
    if isinstance(expr, ast.Compare):
        pairs = zip([expr.left, *expr.comparators], expr.comparators, strict=False)
        for op, (left, right) in zip(expr.ops, pairs, strict=False):
            is_none = isinstance(right, ast.Constant) and right.value is None
            if isinstance(op, ast.IsNot) and is_none:
                return "weak"
            if _is_type_check(left) or _is_type_check(right):
                return "weak"
        return "exact"
    if isinstance(expr, ast.Call):
        return "weak" if _last_name(expr.func) in WEAK_PREDICATES else "exact"
    return "weak"  # a name, attribute or subscript: truthiness only


def grade_call(call: ast.Call) -> str:
    """The grade of an assert-method or pytest context-manager call."""
    called = _last_name(call.func)
    args = call.args
    if called in ("assertTrue", "assert_") and args and is_constant_true(args[0]):
        return "constant"
    if called.startswith("assert") and len(args) >= 2 and _same(args[0], args[1]):
        return "constant"
    return "weak" if called in WEAK_ASSERT_METHODS else "exact"


def _exception_names(node: ast.expr) -> tuple[str, ...]:
    if isinstance(node, ast.Tuple):
        return tuple(n for e in node.elts for n in _exception_names(e))
    return (_last_name(node),) if _last_name(node) else ()


def _raises(call: ast.Call) -> Raises:
    expected = call.args[0] if call.args else None
    for keyword in call.keywords:
        if keyword.arg == "expected_exception":
            expected = keyword.value
    names = _exception_names(expected) if expected is not None else ()
    has_match = any(k.arg == "match" for k in call.keywords) or (
        _last_name(call.func) == "assertRaisesRegex" and len(call.args) >= 2
    )
    return Raises(call.lineno, call.col_offset + 1, names, has_match)


def _imports(body: list[ast.stmt]) -> dict[str, str]:
    """Local name -> fully qualified name, for the absolute imports in ``body`` (not nested)."""
    names: dict[str, str] = {}
    for node in body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _qualified(func: ast.expr, imports: dict[str, str]) -> str:
    """``pkg.module.function`` for a call through an imported name, else ``""``."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or func.id not in imports:
        return ""
    return ".".join([imports[func.id], *reversed(parts)])


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
    imports = _imports(tree.body)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_test(node.name):
            tests[node.name] = _facts_of(node, node.name, 0, imports)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            class_skips = sum(_count_skip_marks(d) for d in node.decorator_list)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _is_test(item.name):
                    name = f"{node.name}.{item.name}"
                    tests[name] = _facts_of(item, name, class_skips, imports)
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
