"""A function whose body is only a placeholder pretends to be implemented.

What it does
Flags functions whose body (after the docstring) is only a placeholder:

- ``raise NotImplementedError(...)`` (unless its message is a refusal such as "cannot be
  vmapped", "not supported", "please use ..." without "yet"), except in a method of a class that
  is an interface: a
  ``Protocol``/``ABC`` subclass, a class named ``Base*``/``Abstract*``/``*Base``/``*Mixin``/
  ``*Interface``, or a class that another class in the same module inherits from;
- ``pass`` or ``...`` when the function also carries a ``TODO``/``FIXME``/"implement" comment;
- ``pass`` or ``...`` with no docstring in a module-level function, or (in this project's own
  code, see Options) in a method of a class that inherits from something
  (``class GPT(nn.Module): def crop_block_size(self, n): pass``). Elsewhere an empty override is
  usually a deliberate no-op (torch's own code has them), so it is left alone.

Never flagged: ``@abstractmethod``, ``@overload`` (any decorator ending in ``overload``) and
deprecated (``@deprecated``) stubs; dunder methods (``raise NotImplementedError`` in ``__add__``
refuses an operation); functions named as deliberate no-ops (``noop``, ``dummy``,
``*_unimplemented``...); signatures under ``if TYPE_CHECKING:``; methods of a root class with no
bases (``class Optimizer:`` whose ``step`` raises is an abstract base by convention, subclassed
elsewhere); functions in ``Protocol``/``ABC`` classes; stub files (``*.pyi``); test code; and empty
methods of root classes (no bases) and interface-named classes, which are "override me" hooks. A
docstring on an empty body says it is empty on purpose.

Why is this bad?
A placeholder that ships looks finished to its caller: the import works, the call type-checks,
and the feature silently does nothing (or crashes at the first real use). Agents tend to leave
these behind when a task is bigger than expected and then report the task as done.

Example
    def warmdown_lr(step, cfg):
        # TODO: implement the warmdown
        pass

Use instead
    def warmdown_lr(step, cfg):
        progress = (step - cfg.warmdown_start) / cfg.warmdown_steps
        return cfg.final_lr_frac + (1 - cfg.final_lr_frac) * (1 - progress)

Fix safety
No automatic fix: the body has to be written.

Options
strict_paths: path globs where an undocumented empty method of a subclass counts as a placeholder
(default ``nanochat/*``, ``harness/*``, ``rules/*``); give a deliberate no-op a docstring.
"""

from __future__ import annotations

import fnmatch
import re

import libcst as cst

from harness.lint.rule import Option, Rule
from rules._syntax import TEST_PATHS, decorator_names, docstring_node, dotted

_EXEMPT_DECORATORS = frozenset(
    {"abstractmethod", "abc.abstractmethod", "overload", "typing.overload", "abstractproperty"}
)
_INTERFACE_CLASS = re.compile(r"^(Base|Abstract)|(Base|Mixin|Interface|Protocol)$")
_INTERFACE_BASES = frozenset({"Protocol", "typing.Protocol", "ABC", "abc.ABC", "Generic"})
_NOOP_NAME = re.compile(
    r"(noop|no_op|nop$|dummy|unsupported|not_implemented|unimplemented)", re.IGNORECASE
)
_REFUSAL = re.compile(
    r"cannot|can't|not supported|unsupported|does not support|doesn't support|only support"
    r"|not allowed|please"
)
_NOT_YET = re.compile(r"\byet\b|todo|fixme")
_TODO = re.compile(r"\b(TODO|FIXME|XXX|implement)", re.IGNORECASE)


class PlaceholderBody(Rule):
    code = "NC501"
    name = "placeholder-body"
    severity = "error"
    message = "{function}() has a placeholder body ({kind})"
    fix_title = "Implement the function, or delete it and its callers"
    tags = ("agent-slop",)
    prefilter = ("pass", "...", "NotImplementedError")
    exclude = ("*.pyi", *TEST_PATHS)
    options = {
        "strict_paths": Option(
            default=("nanochat/*", "harness/*", "rules/*"),
            doc="path globs where an undocumented empty method of a subclass is a placeholder",
            kind=(tuple, list),
        )
    }

    def __init__(self, context) -> None:
        super().__init__(context)
        self._scopes: list[cst.ClassDef | cst.FunctionDef] = []
        self._base_names: set[str] = set()
        self._pending: list[tuple[cst.FunctionDef, str, str | None]] = []
        self._type_checking = 0
        self._strict = any(fnmatch.fnmatch(context.path, g) for g in self.option("strict_paths"))

    def visit_If(self, node: cst.If) -> None:
        if dotted(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            self._type_checking += 1

    def leave_If(self, original_node: cst.If) -> None:
        if dotted(original_node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            self._type_checking -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.append(node)
        for base in node.bases:
            expr = base.value.value if isinstance(base.value, cst.Subscript) else base.value
            name = dotted(expr)
            if name:
                self._base_names.add(name.rsplit(".", 1)[-1])

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = self._scopes[-1] if self._scopes else None
        self._scopes.append(node)
        if self._type_checking or _is_exempt(node):
            return
        kind = _placeholder_kind(node)
        if kind is None:
            return
        owner = parent if isinstance(parent, cst.ClassDef) else None
        has_todo = bool(_TODO.search(_EMPTY.code_for_node(node)))
        if owner is not None and _is_interface(owner):
            return
        if owner is not None and not _has_bases(owner) and not has_todo:
            return
        is_module_level = parent is None
        undocumented = docstring_node(node.body) is None
        if kind == "raise NotImplementedError" or has_todo:
            self._pending.append((node, kind, owner.name.value if owner else None))
        elif undocumented and (is_module_level or (owner is not None and self._strict)):
            self._pending.append((node, kind, owner.name.value if owner else None))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def leave_Module(self, original_node: cst.Module) -> None:
        for node, kind, owner in self._pending:
            if owner is not None and owner in self._base_names:
                continue
            name = f"{owner}.{node.name.value}" if owner else node.name.value
            self.report(node.name, function=name, kind=kind)


_EMPTY = cst.Module(body=[])


def _is_exempt(node: cst.FunctionDef) -> bool:
    """Decorated stubs, dunder methods and functions named as deliberate no-ops."""
    name = node.name.value
    if name.startswith("__") and name.endswith("__"):
        return True
    if _NOOP_NAME.search(name):
        return True
    decorators = decorator_names(node)
    if decorators & _EXEMPT_DECORATORS:
        return True
    return any(d.endswith("overload") or "deprecat" in d for d in decorators)


def _has_bases(node: cst.ClassDef) -> bool:
    """Whether the class inherits from something other than ``object``."""
    return any(
        dotted(b.value) not in ("object", None) or isinstance(b.value, cst.Subscript)
        for b in node.bases
    )


def _is_refusal(exc: cst.BaseExpression) -> bool:
    """``NotImplementedError("... cannot be vmapped")``: a deliberate refusal, not a placeholder."""
    if not isinstance(exc, cst.Call) or not exc.args:
        return False
    text = _EMPTY.code_for_node(exc.args[0].value).lower()
    return bool(_REFUSAL.search(text)) and not _NOT_YET.search(text)


def _is_interface(node: cst.ClassDef) -> bool:
    if _INTERFACE_CLASS.search(node.name.value):
        return True
    for base in node.bases:
        expr = base.value.value if isinstance(base.value, cst.Subscript) else base.value
        if dotted(expr) in _INTERFACE_BASES:
            return True
    return any(a.keyword is not None and a.keyword.value == "metaclass" for a in node.keywords)


def _placeholder_kind(node: cst.FunctionDef) -> str | None:
    body = node.body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
    if docstring_node(body) is not None:
        statements = statements[1:]
    smalls: list[cst.BaseSmallStatement] = []
    for statement in statements:
        if not isinstance(statement, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            return None
        smalls.extend(statement.body)
    if len(smalls) != 1:
        return None
    only = smalls[0]
    if isinstance(only, cst.Pass):
        return "pass"
    if isinstance(only, cst.Expr) and isinstance(only.value, cst.Ellipsis):
        return "..."
    if isinstance(only, cst.Raise) and only.exc is not None:
        exc = only.exc.func if isinstance(only.exc, cst.Call) else only.exc
        if dotted(exc) == "NotImplementedError" and not _is_refusal(only.exc):
            return "raise NotImplementedError"
    return None
