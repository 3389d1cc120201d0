"""Importing a package the project does not declare breaks fresh installs.

What it does
Flags an ``import`` of a third-party top-level package that the nearest ``pyproject.toml``
(searched upwards from the file, then the working directory) does not declare in
``[project] dependencies`` or any ``[project.optional-dependencies]`` group. Import names are
mapped to distributions with ``importlib.metadata.packages_distributions()`` (``yaml`` ->
``PyYAML``); the standard library (``sys.stdlib_module_names``), relative imports, the project's
own top-level packages (directories or modules next to the pyproject) and imports guarded by
``except ImportError`` / ``ModuleNotFoundError`` are fine.

Why is this bad?
An undeclared dependency works on the machine of whoever (or whichever agent) happened to
``pip install`` it and breaks on a fresh checkout, in CI, or on the GPU box. Each new
dependency should be a decision recorded in pyproject.toml, with a version floor.

Example
    import einops  # not in pyproject.toml

Use instead
    # pyproject.toml: dependencies = [..., "einops>=0.8"]
    import einops

Fix safety
No automatic fix: choosing a version floor (or dropping the dependency) is a decision.

Options
extra_allowed: import names accepted without a declaration (default: none).
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from functools import cache
from pathlib import Path

import libcst as cst

from harness.lint.rule import Option, Rule
from rules._syntax import dotted


class UndeclaredDependency(Rule):
    code = "NC302"
    name = "undeclared-dependency"
    severity = "error"
    message = "import of {module!r} needs distribution {dist!r}, which {pyproject} does not declare"
    fix_title = (
        "Declare the distribution in pyproject.toml dependencies (with a version floor) "
        "or drop the import"
    )
    tags = ("dependencies", "configuration")
    prefilter = ("import",)
    options = {
        "extra_allowed": Option(
            default=(), doc="import names accepted without a declaration", kind=(tuple, list)
        )
    }

    def __init__(self, context) -> None:
        super().__init__(context)
        self._optional_depth = 0

    def visit_Try(self, node: cst.Try) -> None:
        if any(_catches_import_error(h) for h in node.handlers):
            self._optional_depth += 1

    def leave_Try(self, original_node: cst.Try) -> None:
        if any(_catches_import_error(h) for h in original_node.handlers):
            self._optional_depth -= 1

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self._check(node, dotted(alias.name) or "")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        self._check(node, dotted(node.module) or "")

    def _check(self, node: cst.CSTNode, module: str) -> None:
        top = module.split(".", 1)[0]
        if not top or self._optional_depth or top in sys.stdlib_module_names or top == "__future__":
            return
        if top in self.option("extra_allowed"):
            return
        project = _project_for(self.context.path, self.context.root)
        if project is None or top in project.first_party:
            return
        if _normalize(top) in project.declared:
            return  # the common case; skips the installed-metadata scan (~100 ms)
        dists = _import_to_dists().get(top) or [top]
        if any(_normalize(d) in project.declared for d in dists):
            return
        self.report(node, module=module, dist=dists[0], pyproject=project.label)


class _Project:
    def __init__(self, pyproject: Path) -> None:
        import tomllib  # stdlib from 3.11; imported here so the registry loads on 3.10

        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        project = data.get("project", {})
        requirements = list(project.get("dependencies", []))
        for group in project.get("optional-dependencies", {}).values():
            requirements.extend(group)
        for group in data.get("dependency-groups", {}).values():
            requirements.extend(r for r in group if isinstance(r, str))
        self.declared = {
            _normalize(re.split(r"[\s<>=!~;\[@(]", r, maxsplit=1)[0]) for r in requirements
        }
        root = pyproject.parent
        self.first_party = {
            p.stem
            for p in root.iterdir()
            if p.suffix == ".py" or (p.is_dir() and not p.name.startswith("."))
        }
        self.label = "pyproject.toml" if root.resolve() == Path.cwd().resolve() else str(pyproject)


def _load_project(pyproject: Path) -> _Project:
    stat = pyproject.stat()  # part of the key: an edited pyproject.toml is read again
    return _load_project_version(pyproject, stat.st_mtime_ns, stat.st_size)


@cache
def _load_project_version(pyproject: Path, mtime_ns: int, size: int) -> _Project:
    return _Project(pyproject)


def _project_for(path: str, root: str = "") -> _Project | None:
    """The nearest pyproject.toml above ``path`` (relative paths resolve from ``root``, else the cwd)."""
    start = (Path(root) / path).parent if root else Path(path).parent
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and sys.version_info >= (3, 11):
            return _load_project(candidate)
    fallback = Path.cwd() / "pyproject.toml"
    if not fallback.is_file() or sys.version_info < (3, 11):
        return None
    return _load_project(fallback)


@cache
def _import_to_dists() -> dict[str, list[str]]:
    return {
        name: list(dists) for name, dists in importlib.metadata.packages_distributions().items()
    }


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _catches_import_error(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    elements = handler.type.elements if isinstance(handler.type, cst.Tuple) else (handler.type,)
    names = {dotted(e.value if isinstance(e, cst.Element) else e) for e in elements}
    return bool(names & {"ImportError", "ModuleNotFoundError", "Exception"})
