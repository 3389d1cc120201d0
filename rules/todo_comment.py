"""A TODO in committed code is an unfinished change without an issue.

What it does
Flags comments containing ``TODO``, ``FIXME``, ``XXX`` or ``HACK`` (upper case, as a word).

Why is this bad?
A TODO on main is a task recorded where no one tracks it: it never gets an owner, a priority
or a deadline, and agents read it as permission to leave work unfinished. Open an issue (or do
the work) and leave a comment that states the current behaviour and its reason.

Example
    # TODO: handle the last partial batch
    batches = tokens[: n // B * B].view(-1, B)

Use instead
    # Drop the last partial batch: packing leaves < B rows only at the end of an epoch.
    batches = tokens[: n // B * B].view(-1, B)

Fix safety
No automatic fix: the note has to become an issue or a real explanation.
"""

from __future__ import annotations

import re

import libcst as cst

from harness.lint.rule import Rule

_MARKER = re.compile(r"\b(TODO|FIXME|XXX|HACK)\b")


class TodoComment(Rule):
    code = "NC507"
    name = "todo-comment"
    severity = "warning"
    message = "{marker} comment left in the code: {comment!r}"
    fix_title = (
        "Do the work now or open an issue, and replace the note with the current behaviour and why"
    )
    tags = ("agent-slop", "comments")
    prefilter = ("TODO", "FIXME", "XXX", "HACK")

    def visit_Comment(self, node: cst.Comment) -> None:
        match = _MARKER.search(node.value)
        if match:
            text = node.value if len(node.value) <= 50 else node.value[:47] + "..."
            self.report(node, marker=match.group(1), comment=text)
