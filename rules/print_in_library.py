"""print() in a library module writes to the user's terminal behind their back.

What it does
Flags ``print(...)`` in library modules. Printing is allowed where a program talks to its user:
in functions named ``main`` (or ``_main``, ``cli``) or whose name says they print
(``print_*``, ``show_*``, ``display_*``, ``pprint_*``), under ``if __name__ == "__main__":``, in
modules that have such a block (entry points such as ``python -m nanochat.train``), in modules
named ``cli``/``__main__`` or inside a ``cli`` package, and under ``scripts/``, ``tests/``,
``ci/``, ``examples/`` and ``benchmarks/``. ``print(..., file=f)`` to a file other than
``sys.stdout``/``sys.stderr`` writes a file, not to the console, and is allowed.

Why is this bad?
A library that prints cannot be used quietly, mixes its output into the JSON or SARIF a CLI
emits, and cannot be tested for its output without capturing stdout. In this repository only
the CLI prints (``cli -> gates -> findings -> reporters``): library code returns values or
raises, and the entry point decides what to show.

Example
    def run_gate(ctx):
        print(f"checking {len(ctx.paths)} files")
        return GateResult("rules", ok=True)

Use instead
    def run_gate(ctx):
        return GateResult("rules", ok=True, metrics={"files": len(ctx.paths)})

Fix safety
No automatic fix: the information has to be returned or logged instead.
"""

from __future__ import annotations

import libcst as cst

from harness.lint.rule import Rule
from rules._syntax import TEST_PATHS, call_name, dotted, is_main_guard, keyword

_ENTRY_FUNCTIONS = frozenset({"main", "_main", "cli"})
# Functions whose job is console output by name (print_tabular, show_report, pprint_graph).
_PRINTING_PREFIXES = ("print", "_print", "show", "_show", "display", "pprint", "_pprint")


class PrintInLibrary(Rule):
    code = "NC504"
    name = "print-in-library"
    severity = "warning"
    message = "print() in library code {where}"
    fix_title = "Return the value (or raise) and let the CLI entry point print it"
    tags = ("architecture", "agent-slop")
    prefilter = ("print(",)
    exclude = (
        "scripts/*",
        "ci/*",
        "examples/*",
        "*/benchmarks/*",
        "benchmarks/*",
        "*cli.py",
        "*/cli/*",
        "*__main__.py",
        "setup.py",
        *TEST_PATHS,
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._functions: list[str] = []
        self._allowed = 0
        self._pending: list[tuple[cst.Call, str]] = []
        self._is_entry_module = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(node.name.value)
        if _may_print(node.name.value):
            self._allowed += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()
        if _may_print(original_node.name.value):
            self._allowed -= 1

    def visit_If(self, node: cst.If) -> None:
        if is_main_guard(node.test):
            self._is_entry_module = True

    def visit_Call(self, node: cst.Call) -> None:
        if call_name(node) != "print" or self._allowed:
            return
        target = keyword(node, "file")
        if target is not None and dotted(target.value) not in ("sys.stdout", "sys.stderr"):
            return
        where = f"in {self._functions[-1]}()" if self._functions else "at module level"
        self._pending.append((node, where))

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._is_entry_module:
            return
        for node, where in self._pending:
            self.report(node, where=where)


def _may_print(name: str) -> bool:
    return name in _ENTRY_FUNCTIONS or name.startswith(_PRINTING_PREFIXES)
