"""A read-only batched traversal of a libcst tree, about 3x cheaper than ``visit_batched``.

libcst's own traversal rebuilds every node on the way back up (``_visit_and_replace_children``
constructs a new dataclass per node), which costs twice the parse for a visitor that changes
nothing. Lint rules only read, so this walker reads each node's children in libcst's visiting
order (recorded once per node type) and calls the rules' ``visit_*``/``leave_*`` methods,
including the ``visit_<Type>_<attribute>`` forms, exactly as ``visit_batched`` would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

# Per node type: (child attributes in visiting order, attributes libcst skipped because they
# were empty on the nodes seen so far, e.g. FormattedStringExpression.format_spec).
_FIELD_ORDER: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


class _OrderRecorder(cst.CSTVisitor):
    """Records the attribute names libcst visits on ``root``, without descending."""

    def __init__(self, root: cst.CSTNode) -> None:
        super().__init__()
        self.root = root
        self.names: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return node is self.root

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if node is self.root:
            self.names.append(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave(self, original_node: cst.CSTNode) -> None:
        return None


def _recorded(node: cst.CSTNode) -> tuple[str, ...]:
    recorder = _OrderRecorder(node)
    node.visit(recorder)
    return tuple(recorder.names)


def _merge(known: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    merged = list(new)
    for i, attr in enumerate(known):
        if attr not in merged:
            before = known[i - 1] if i else None
            merged.insert(merged.index(before) + 1 if before in merged else 0, attr)
    return tuple(merged)


_NODE, _SEQUENCE, _OTHER = 1, 2, 0
_KIND: dict[type, int] = {}


def _kind(value: object) -> int:
    """Whether ``value`` is a node, a sequence (of nodes) or neither; cached per type because
    isinstance against the CSTNode ABC is slow."""
    kind = type(value)
    found = _KIND.get(kind)
    if found is None:
        found = _KIND[kind] = (
            _NODE
            if issubclass(kind, cst.CSTNode)
            else _SEQUENCE
            if issubclass(kind, (list, tuple))
            else _OTHER
        )
    return found


def _is_present(value: object) -> bool:
    kind = _kind(value)
    return kind == _NODE or (kind == _SEQUENCE and len(value) > 0)  # type: ignore[arg-type]


def _may_hold_node(value: object) -> bool:
    return value is None or isinstance(value, cst.MaybeSentinel) or _kind(value) == _SEQUENCE


def field_order(node: cst.CSTNode) -> tuple[str, ...]:
    """The child attributes of ``node``'s type, in the order libcst visits them."""
    kind = type(node)
    entry = _FIELD_ORDER.get(kind)
    if entry is None:
        order = _recorded(node)
        fields = getattr(kind, "__dataclass_fields__", {})
        skipped = tuple(
            f
            for f in fields
            if not f.startswith("_") and f not in order and _may_hold_node(getattr(node, f))
        )
        _FIELD_ORDER[kind] = entry = (order, skipped)
    order, skipped = entry
    if any(_is_present(getattr(node, f)) for f in skipped):
        order = _merge(order, _recorded(node))
        _FIELD_ORDER[kind] = (order, tuple(f for f in skipped if f not in order))
    return order


Hook = Callable[[cst.CSTNode], object]

# Whitespace, comments and operators are about 70% of a tree's nodes and no rule but a comment
# rule looks at them; they contain only each other, so a trivia subtree that holds no type a
# rule handles is skipped whole. Values: the trivia types each can contain.
_SPACE = {"SimpleWhitespace", "Comment", "Newline"}
_LINES = _SPACE | {"TrailingWhitespace", "EmptyLine"}
_TRIVIA_CONTENTS: dict[str, set[str]] = {
    "SimpleWhitespace": set(),
    "Comment": set(),
    "Newline": set(),
    "TrailingWhitespace": _SPACE,
    "EmptyLine": _SPACE,
    "ParenthesizedWhitespace": _LINES,
    **{
        name: _LINES | {"ParenthesizedWhitespace"}
        for name, value in vars(cst).items()
        if isinstance(value, type)
        and issubclass(value, cst.CSTNode)
        and value.__module__ == "libcst._nodes.op"
    },
}


def skippable_types(handled: set[str]) -> frozenset[type]:
    """Trivia node types whose whole subtree holds none of the ``handled`` type names."""
    return frozenset(
        getattr(cst, name)
        for name, contents in _TRIVIA_CONTENTS.items()
        if not ({name} | contents) & handled
    )


_METHOD_NAMES: dict[type, tuple[str, ...]] = {}


def visitor_method_names(kind: type) -> tuple[str, ...]:
    """The non-stub ``visit_*``/``leave_*`` methods of a visitor class (what libcst's
    ``get_visitors`` finds per instance with inspect.getmembers, ~10 ms each), cached per class."""
    names = _METHOD_NAMES.get(kind)
    if names is None:
        names = _METHOD_NAMES[kind] = tuple(
            name
            for name in dir(kind)
            if name.startswith(("visit_", "leave_"))
            and callable(getattr(kind, name))
            and not getattr(getattr(kind, name), "_is_no_op", False)
            and name != "visit_batched"
        )
    return names


def walk_batched(module: cst.Module, visitors: Sequence[cst.BatchableCSTVisitor]) -> None:
    """Call every visitor's visit/leave methods over ``module`` in one read-only pass."""
    methods: dict[str, list[Hook]] = {}
    for visitor in visitors:
        for name in visitor_method_names(type(visitor)):
            methods.setdefault(name, []).append(getattr(visitor, name))
    skip = skippable_types({name.split("_")[1] for name in methods})
    plans: dict[type, tuple] = {}

    def plan(kind: type, node: cst.CSTNode) -> tuple:
        name = kind.__name__
        attributes = tuple(
            (attr, methods.get(f"visit_{name}_{attr}", ()), methods.get(f"leave_{name}_{attr}", ()))
            for attr in field_order(node)
        )
        entry = (methods.get(f"visit_{name}", ()), methods.get(f"leave_{name}", ()), attributes)
        plans[kind] = entry
        return entry

    def visit(node: cst.CSTNode) -> None:
        kind = type(node)
        entry = plans.get(kind)
        if entry is None or (_FIELD_ORDER[kind][1] and len(field_order(node)) != len(entry[2])):
            entry = plan(kind, node)
        on_visit, on_leave, attributes = entry
        for fn in on_visit:
            fn(node)
        for attr, attr_visit, attr_leave in attributes:
            for fn in attr_visit:
                fn(node)
            value = getattr(node, attr)
            kind_of_value = _KIND.get(type(value)) or _kind(value)
            if kind_of_value == _NODE:
                if type(value) not in skip:
                    visit(value)
            elif kind_of_value == _SEQUENCE:
                for item in value:
                    if type(item) not in skip and (_KIND.get(type(item)) or _kind(item)) == _NODE:
                        visit(item)
            for fn in attr_leave:
                fn(node)
        for fn in on_leave:
            fn(node)

    visit(module)


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """Read-only drop-in for ``node.visit(visitor)``: same callbacks, same order, and children
    skipped when ``on_visit`` returns False, but no node is rebuilt. For helper visitors inside
    rules (counting statements, collecting names) that never transform."""
    if visitor.on_visit(node):
        for attr in field_order(node):
            visitor.on_visit_attribute(node, attr)
            value = getattr(node, attr)
            kind_of_value = _KIND.get(type(value)) or _kind(value)
            if kind_of_value == _NODE:
                walk(value, visitor)
            elif kind_of_value == _SEQUENCE:
                for item in value:
                    if (_KIND.get(type(item)) or _kind(item)) == _NODE:
                        walk(item, visitor)
            visitor.on_leave_attribute(node, attr)
    visitor.on_leave(node)
