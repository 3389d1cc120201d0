"""Ways to stop tests from running or failing without touching them.

A conftest.py that gains ``collect_ignore`` entries, ``pytest_plugins``, a collection hook
(``pytest_collection_modifyitems``, ``pytest_ignore_collect``) or a hook that can rewrite
outcomes (``pytest_runtest_makereport``, ``pytest_report_teststatus``, ``pytest_pyfunc_call``,
...), or a pytest ``addopts`` (pyproject.toml, pytest.ini, tox.ini, setup.cfg) that gains
``--ignore``/``--deselect``/``-k``/``-m``/``-p``, silently drops or passes tests. The
test-integrity gate reports each such addition since the base ref as TI003.
"""

from __future__ import annotations

import ast
import shlex
import tomllib
from collections import Counter
from dataclasses import dataclass

IGNORE_LISTS = {"collect_ignore", "collect_ignore_glob", "pytest_plugins"}
NARROWING_HOOKS = {
    "pytest_collection_modifyitems",
    "pytest_ignore_collect",
    "pytest_deselected",
    "pytest_collection",
    # Hooks that can turn a failure into a pass or a skip.
    "pytest_runtest_makereport",
    "pytest_report_teststatus",
    "pytest_runtest_protocol",
    "pytest_runtest_call",
    "pytest_runtest_setup",
    "pytest_pyfunc_call",
    "pytest_sessionfinish",
    "pytest_runtest_logreport",
}
NARROWING_FLAGS = {"--ignore", "--ignore-glob", "--deselect", "-k", "-m", "-p"}
# Files whose [pytest] section configures pytest, and that section's name in each.
INI_SECTIONS = {"pytest.ini": "pytest", "tox.ini": "pytest", "setup.cfg": "tool:pytest"}


@dataclass(frozen=True)
class Narrowing:
    """What narrows collection in one file: a count per mechanism and the line of each."""

    counts: Counter[str]
    lines: dict[str, int]


def conftest_narrowing(source: str) -> Narrowing | None:
    """collect_ignore entries and collection hooks in a conftest.py (None when unparsable)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    counts: Counter[str] = Counter()
    lines: dict[str, int] = {}
    for node in ast.walk(tree):
        name, amount = "", 0
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            for target in targets:
                if isinstance(target, ast.Name) and target.id in IGNORE_LISTS:
                    name = target.id
                    amount = len(value.elts) if isinstance(value, ast.List | ast.Tuple) else 1
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in IGNORE_LISTS:
                if node.func.attr in ("append", "extend", "insert"):
                    name, amount = owner.id, 1
        elif isinstance(node, ast.FunctionDef) and node.name in NARROWING_HOOKS:
            name, amount = node.name, 1
        if name:
            counts[name] += amount
            lines.setdefault(name, node.lineno)
    return Narrowing(counts, lines)


def addopts_narrowing(pyproject: str) -> Narrowing | None:
    """Collection-narrowing flags in ``[tool.pytest.ini_options] addopts`` of pyproject.toml."""
    try:
        table = tomllib.loads(pyproject)
    except tomllib.TOMLDecodeError:
        return None
    addopts = table.get("tool", {}).get("pytest", {}).get("ini_options", {}).get("addopts", "")
    words = shlex.split(addopts) if isinstance(addopts, str) else [str(w) for w in addopts]
    counts: Counter[str] = Counter(
        flag for word in words if (flag := word.split("=", 1)[0]) in NARROWING_FLAGS
    )
    line = next((i for i, text in enumerate(pyproject.splitlines(), 1) if "addopts" in text), 1)
    return Narrowing(counts, {flag: line for flag in counts})


def ini_narrowing(text: str, section: str) -> Narrowing | None:
    """Collection-narrowing flags in the ``addopts`` of an ini file's pytest ``section``."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    if not parser.has_section(section):
        return Narrowing(Counter(), {})
    words = shlex.split(parser.get(section, "addopts", fallback=""))
    counts: Counter[str] = Counter(
        flag for word in words if (flag := word.split("=", 1)[0]) in NARROWING_FLAGS
    )
    counts["[pytest] section"] = 1  # a new one shadows the pytest settings in pyproject.toml
    line = next((i for i, t in enumerate(text.splitlines(), 1) if "addopts" in t), 1)
    return Narrowing(counts, {flag: line for flag in counts})


def added_narrowing(base: Narrowing | None, new: Narrowing | None) -> list[tuple[str, int, int]]:
    """(mechanism, line, how many more) for everything ``new`` narrows beyond ``base``."""
    if new is None:
        return []
    before = base.counts if base is not None else Counter()
    return [
        (name, new.lines.get(name, 1), count - before[name])
        for name, count in sorted(new.counts.items())
        if count > before[name]
    ]
