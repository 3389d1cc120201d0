"""The rule registry: every public module in this package defines exactly one Rule subclass.

Modules whose name starts with ``_`` (``_syntax``, ``_step_loop``, ``_eval_scope``) hold the
predicates and visitor mixins the rules share; they define no rule.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from harness.lint.rule import Rule


@cache
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class in ``rules/``, sorted by code."""
    found: list[type[Rule]] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        defined = [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, Rule)
            and obj is not Rule
            and obj.__module__ == module.__name__
        ]
        if len(defined) != 1:
            raise RuntimeError(
                f"rules/{info.name}.py defines {len(defined)} Rule subclasses; "
                "put exactly one rule in each rule file"
            )
        found.extend(defined)
    codes = [r.code for r in found]
    duplicates = {c for c in codes if codes.count(c) > 1}
    if duplicates:
        raise RuntimeError(
            f"rules/: duplicate rule codes {sorted(duplicates)}; give each rule its own code"
        )
    return tuple(sorted(found, key=lambda r: r.code))


def rule_by_code(code: str) -> type[Rule] | None:
    """The rule with this code (case-insensitive), or None."""
    return next((r for r in all_rules() if r.code == code.strip().upper()), None)
