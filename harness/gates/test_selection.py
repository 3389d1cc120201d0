"""Choose the test files a change can affect, from the import graph (tests gate, --base/--changed).

A test file is selected when it, or a ``conftest.py`` above it, imports a module whose file
changed or was deleted, directly or through the project's packages. The packages' graph comes
from grimp; test files belong to no package (pytest's importlib mode), so their imports are read
here with ``ast`` and resolved to the graph's modules. Each changed path, in this order:

- ``docs/`` and ``*.md`` select nothing;
- a path under a prefix of ``FILE_READERS`` selects that entry's test folders;
- a ``conftest.py`` selects every test under its folder; a test file selects itself;
- a module of a root package (a top-level folder with ``__init__.py``) selects its importers;
- anything else (pyproject.toml, data files, scripts outside the packages, helpers beside the
  tests) selects the full suite, and the reason names the path.

Edges grimp does not record are added. Every module imports its parent package (importing
``a.b.c`` runs ``a/b/__init__.py``). A string constant that is exactly a project module's name
is imported when it is passed to ``importlib.import_module``; any other such string is a module
run by name (``TRAIN_MODULE = "nanochat.train"``, for ``python -m``), which counts for the tests
that import the runner itself, one step, not for everything above it. A package whose
``__init__.py`` imports by name (``import_module``, ``pkgutil.iter_modules``: a plugin registry
such as ``rules`` or ``harness.gates``) imports all its modules: when its module-level code does
so, always; else for each importer whose text names a loading function (``load_gate``,
``all_rules``). A deleted module has no node left, so its importers are found by reading the
packages' import statements.

Known gap: tests that read the repository's own files as text (the self-check, the docs checks)
are selected by their imports only; the check's other gates judge those files directly.

The graph is built in a child process run from the checker's own files (as the architecture
gate's ``import_contracts``): grimp finds packages through ``sys.modules``, where ``harness`` is
the checker's copy, not the tree under check.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import json
import re
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from harness import git
from harness.gates.tool_run import checker_command, run_tool

# Paths tests read as files rather than import: repo-relative prefix -> test folders it selects.
# golden/ holds each rule's good and bad examples, which tests/rules/ lint and count.
FILE_READERS: dict[str, tuple[str, ...]] = {"golden/": ("tests/rules/",)}
IMPORT_GRAPH = "import graph"
DEFAULT_TEST_FILES = ("test_*.py", "*_test.py")  # pytest's python_files default
GRAPH_TIMEOUT_S = 120.0

_DOTTED_LITERAL = re.compile(r"""["']([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)["']""")
_BY_NAME = {"import_module", "__import__", "iter_modules", "walk_packages"}
_BY_NAME_TEXT = re.compile(r"\b(?:" + "|".join(_BY_NAME) + r")\b")


@dataclass(frozen=True)
class Selection:
    """The test files to run and why; ``reason`` is ``import graph`` or ``full suite: <why>``."""

    tests: tuple[str, ...]  # every test file when the full suite is chosen
    reason: str

    @property
    def is_full_suite(self) -> bool:
        return self.reason != IMPORT_GRAPH

    def metrics(self) -> dict[str, Any]:
        return {
            "selected": len(self.tests),
            "selection": self.reason,
            "selected_files": list(self.tests),
        }


def with_deleted(root: Path, changed: Iterable[str], base: str | None) -> list[str]:
    """``changed`` plus the files deleted since ``base`` (HEAD when None; none without commits)."""
    ref = base or "HEAD"
    deleted = git.deleted_files(root, ref) if git.ref_exists(root, ref) else []
    return sorted({*changed, *deleted})


def select_tests(root: Path, changed: Sequence[str], test_roots: Sequence[str] = ()) -> Selection:
    """The test files under ``test_roots`` (default: pytest's testpaths) that ``changed`` can affect.

    Never raises: when the graph cannot be built the selection is the full suite, saying why.
    """
    request = json.dumps({"changed": list(changed), "test_roots": list(test_roots)})
    ran = run_tool(checker_command(__name__), root, timeout_s=GRAPH_TIMEOUT_S, stdin_text=request)
    try:
        answer = json.loads(ran.stdout.strip().splitlines()[-1])
        return Selection(tuple(answer["tests"]), str(answer["reason"]))
    except (IndexError, json.JSONDecodeError, KeyError, TypeError):
        why = ran.problem or ran.tail(2) or "no answer"
        return Selection((), f"full suite: import graph unavailable ({why})")


def select_here(root: Path, changed: Sequence[str], test_roots: Sequence[str] = ()) -> Selection:
    """``select_tests`` in this process: ``root``'s packages must be the first on ``sys.path``."""
    roots = _test_roots(root, test_roots)
    if any("::" in r for r in roots):
        return Selection((), "full suite: the tests gate's paths name test ids")
    patterns = _test_file_patterns(root)
    tests = sorted(
        p
        for p in git.tracked_files(root)
        if _is_under(p, roots) and _matches(PurePosixPath(p).name, patterns)
    )
    selected: set[str] = set()
    modules: list[str] = []  # Python files that are not tests: the graph maps them
    for path in sorted(changed):
        name = PurePosixPath(path).name
        readers = [folders for prefix, folders in FILE_READERS.items() if path.startswith(prefix)]
        if path.endswith(".md") or path.startswith("docs/"):
            continue
        if readers:
            selected.update(t for folders in readers for t in tests if _is_under(t, folders))
        elif name == "conftest.py":
            selected.update(t for t in tests if _is_under(t, [str(PurePosixPath(path).parent)]))
        elif path in tests or (_is_under(path, roots) and _matches(name, patterns)):
            selected.update([path] if path in tests else [])  # a deleted test file runs nothing
        elif not path.endswith(".py"):
            return Selection(tuple(tests), f"full suite: {path} changed")
        else:
            modules.append(path)
    if modules:
        mapped = _affected_modules(root, roots, modules)
        if isinstance(mapped, str):
            return Selection(tuple(tests), f"full suite: {mapped}")
        project, affected = mapped
        depends = _test_dependencies(root, tests, project, affected)
        selected.update(t for t in tests if depends[t] & affected)
    return Selection(tuple(sorted(selected)), IMPORT_GRAPH)


def _affected_modules(
    root: Path, roots: Sequence[str], paths: Sequence[str]
) -> tuple[ProjectGraph, set[str]] | str:
    """The graph and the modules that changed or import one that did; or why none map."""
    project = _graph(root, _root_packages(root, roots))
    known = set(project.graph.modules)
    seeds, deleted = set(), set()
    for path in paths:
        module = _module_name(path)
        if module in known:
            seeds.add(module)
        elif not (root / path).exists() and module.rpartition(".")[0] in known:
            deleted.add(module)
        else:
            return f"{path} changed and is no module of the import graph"
    seeds |= _importers_of(root, deleted, known)
    affected = seeds | deleted
    for seed in seeds:
        affected |= project.graph.find_downstream_modules(seed)
    return project, affected


@dataclass(frozen=True)
class ProjectGraph:
    """grimp's graph of the root packages with the edges it does not record, added."""

    graph: Any  # grimp.ImportGraph: imports, parent packages, by-name imports, loaders' users
    loaders: dict[str, tuple[re.Pattern[str], set[str]]]  # package -> (its loading names, modules)
    runs: dict[str, set[str]]  # module -> modules it names in strings (``python -m`` targets)


def _graph(root: Path, packages: Sequence[str]) -> ProjectGraph:
    import grimp

    if not packages:
        return ProjectGraph(grimp.ImportGraph(), {}, {})
    graph = grimp.build_graph(*packages, cache_dir=None)
    modules = set(graph.modules)
    texts = {m: _read(_module_file(root, m)) for m in modules}
    edges: list[tuple[str, str]] = [(m, m.rpartition(".")[0]) for m in modules if "." in m]
    loaders, runs = {}, {}
    for module, text in texts.items():
        literals = set(_DOTTED_LITERAL.findall(text)) & modules - {module}
        is_loader = _is_package(root, module) and _BY_NAME_TEXT.search(text)
        if not (literals or is_loader):
            continue
        tree = _parse(text)
        by_name, named = _string_constants(tree)
        edges += [(module, literal) for literal in literals & by_name]
        runs[module] = literals & named - by_name
        functions, is_eager = _loading_functions(tree) if is_loader else ([], False)
        loaded = set(graph.find_descendants(module)) if is_loader else set()
        edges += [(module, other) for other in loaded if is_eager]
        if functions and not is_eager:
            loaders[module] = (re.compile(rf"\b(?:{'|'.join(functions)})\b"), loaded)
    for loader, (names, loaded) in loaders.items():
        users = graph.find_modules_that_directly_import(loader)  # real imports only, so far
        edges += [(u, m) for u in users if names.search(texts[u]) for m in loaded - {u}]
    for importer, imported in edges:
        graph.add_import(importer=importer, imported=imported)
    return ProjectGraph(graph, loaders, runs)


def _loading_functions(tree: ast.Module) -> tuple[list[str], bool]:
    """Top-level functions that import by name, and whether module-level code does too."""
    functions, is_eager = [], False
    for node in tree.body:
        if not any(_is_by_name_call(call) for call in ast.walk(node)):
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.append(node.name)
        else:
            is_eager = True
    return functions, is_eager


def _is_by_name_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and (
        getattr(node.func, "attr", None) in _BY_NAME or getattr(node.func, "id", None) in _BY_NAME
    )


def _string_constants(tree: ast.Module) -> tuple[set[str], set[str]]:
    """String constants imported by name (``import_module("a.b")``), and all others but docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    by_name = {
        node.args[0].value
        for node in ast.walk(tree)
        if _is_by_name_call(node) and node.args and isinstance(node.args[0], ast.Constant)
    }
    named = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    }
    return {n for n in by_name if isinstance(n, str)}, named


def _importers_of(root: Path, deleted: set[str], known: set[str]) -> set[str]:
    """Package modules whose import statements name one of the ``deleted`` modules."""
    words = re.compile(rf"\b(?:{'|'.join(m.rpartition('.')[2] for m in deleted)})\b")
    importers = set()
    for module in known if deleted else ():
        text = _read(_module_file(root, module))
        if not words.search(text):
            continue
        names = _imported_names(_parse(text), module, _is_package(root, module))
        if _resolve(names, known | deleted) & deleted:
            importers.add(module)
    return importers


def _test_dependencies(
    root: Path, tests: Sequence[str], project: ProjectGraph, affected: set[str]
) -> dict[str, set[str]]:
    """Each test file's modules: imported by it or its conftest.py files, loaded, or run.

    A module another one only runs (a string naming it) counts for the tests whose import
    statements name the runner: ``test_smoke_train`` imports the gate that runs
    ``nanochat.train``; a test that merely loads every gate by name does not.
    """
    known = set(project.graph.modules) | affected  # deleted modules resolve too
    cache: dict[str, tuple[set[str], str]] = {}

    def imports_of(path: str) -> tuple[set[str], str]:
        if path not in cache:
            text = _read(root / path)
            names = _resolve(_imported_names(_parse(text), "", False), known)
            cache[path] = (names | (set(_DOTTED_LITERAL.findall(text)) & known), text)
        return cache[path]

    depends = {}
    for test in tests:
        conftests = [str(folder / "conftest.py") for folder in PurePosixPath(test).parents]
        files = [test, *(c for c in conftests if (root / c).is_file())]
        direct = set().union(*(imports_of(f)[0] for f in files))
        modules = direct.union(*(project.runs.get(m, set()) for m in direct))
        for loader in direct & project.loaders.keys():
            names, loaded = project.loaders[loader]
            if any(names.search(imports_of(f)[1]) for f in files):
                modules |= loaded
        depends[test] = modules
    return depends


def _imported_names(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Dotted names the import statements in ``tree`` name (relative ones resolved)."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: max(0, package.count(".") + 2 - node.level)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
    return {n.strip(".") for n in names if n}


def _resolve(names: Iterable[str], known: set[str]) -> set[str]:
    """Each name's longest prefix that is a known module (``from a.b import f`` -> ``a.b``)."""
    found = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def _module_name(path: str) -> str:
    parts = list(PurePosixPath(path).with_suffix("").parts)
    return ".".join(parts[:-1] if parts and parts[-1] == "__init__" else parts)


def _is_package(root: Path, module: str) -> bool:
    return (root / module.replace(".", "/") / "__init__.py").is_file()


def _module_file(root: Path, module: str) -> Path:
    folder = root / module.replace(".", "/")
    return folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _parse(text: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError:  # pytest reports it; its imports are unknown
        return ast.Module(body=[], type_ignores=[])


def _pytest_options(root: Path) -> dict[str, Any]:
    try:
        with (root / "pyproject.toml").open("rb") as handle:
            return tomllib.load(handle).get("tool", {}).get("pytest", {}).get("ini_options", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _test_roots(root: Path, configured: Sequence[str]) -> list[str]:
    roots = list(configured) or list(_pytest_options(root).get("testpaths") or ["."])
    return [str(PurePosixPath(r)) for r in roots]


def _test_file_patterns(root: Path) -> list[str]:
    patterns = _pytest_options(root).get("python_files") or list(DEFAULT_TEST_FILES)
    return patterns.split() if isinstance(patterns, str) else list(patterns)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def _is_under(path: str, folders: Iterable[str]) -> bool:
    return any(f in (".", path) or path.startswith(f.rstrip("/") + "/") for f in folders)


def _root_packages(root: Path, test_roots: Sequence[str]) -> list[str]:
    """Top-level folders of ``root`` with an ``__init__.py``, the test folders left out."""
    return sorted(
        d.name
        for d in root.iterdir()
        if d.name.isidentifier() and (d / "__init__.py").is_file() and d.name not in test_roots
    )


def main(argv: list[str]) -> int:
    """Child entry point: read ``{"changed", "test_roots"}`` on stdin, print the selection."""
    root = Path.cwd()
    request = json.loads(sys.stdin.read() or "{}")
    roots = request.get("test_roots") or []
    packages = set(_root_packages(root, _test_roots(root, roots)))
    for name in [m for m in sys.modules if m.partition(".")[0] in packages]:
        del sys.modules[name]  # grimp finds packages through sys.modules first
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        selection = select_here(root, request.get("changed") or [], roots)
    except Exception as err:  # any grimp or git failure: run everything, say why
        selection = Selection((), f"full suite: import graph unavailable ({err})")
    print(json.dumps({"tests": list(selection.tests), "reason": selection.reason}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
