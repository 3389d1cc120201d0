"""
What it does
Flags comments that narrate the code instead of explaining it. The patterns are deliberately
narrow (low false positives):

- numbered steps: ``# Step 1``, ``# Step 2:``, ``# STEP 3 -``;
- a sequencing word followed by "we", "I" or "let's": ``# Now we ...``, ``# Here we ...``,
  ``# Next, we ...``, ``# Then I ...``, ``# Finally we ...``, ``# First, let's ...``;
- ``# Let's ...`` / ``# Let us ...``;
- a sequencing word and a comma: ``# First, ...``, ``# Next, ...``, ``# Finally, ...``;
- ``# We now ...``, ``# We will now ...``, ``# We are going to ...``, ``# I will now ...``.

Why is this bad?
Narration restates what the next line already says, goes stale as soon as the code moves, and
buries the comments that matter (a reason, a shape, a unit). It is a tell of generated code
and makes every diff longer.

Example
    # Step 1: compute the logits
    logits = model(x)
    # Now we compute the loss
    loss = F.cross_entropy(logits.view(-1, V), y.view(-1))

Use instead
    logits = model(x)  # (B, T, V)
    loss = F.cross_entropy(logits.view(-1, V), y.view(-1))

Fix safety
The fix deletes the comment (the whole line when the comment stands alone). It is safe:
comments do not change behaviour. If the narration held a real reason, rewrite it as one
instead of applying the fix.
"""

from __future__ import annotations

import re

import libcst as cst

from harness.findings import Edit
from harness.lint.rule import Rule

_SEQUENCE = r"(now|here|next|then|first|firstly|secondly|finally|lastly)"
_NARRATION = re.compile(
    r"^(step\s*\d+\b"
    rf"|{_SEQUENCE},?\s+(we|i|let's|let\s+us|we'll|we're|i'll)\b"
    r"|let's\s|let\s+us\s"
    r"|(first|next|then|finally|lastly|firstly|secondly),\s"
    r"|(we|i)\s+(now|will\s+now|are\s+now|are\s+going\s+to|'ll\s+now)\b)",
    re.IGNORECASE,
)


def is_narration(comment: str) -> bool:
    text = comment.lstrip("#").strip()
    return bool(_NARRATION.match(text))


class NarratorComment(Rule):
    code = "NC502"
    name = "narrator-comment"
    severity = "warning"
    message = "narrating comment {comment!r}"
    fix_title = "Delete the comment, or rewrite it as the reason, shape or unit it should give"
    fix_applicability = "always"
    tags = ("agent-slop", "comments")
    prefilter = ("# ", "#")

    def visit_EmptyLine(self, node: cst.EmptyLine) -> None:
        if node.comment is not None and is_narration(node.comment.value):
            pos = self.position(node)
            edit = Edit(pos.start.line, 1, pos.end.line, pos.end.column + 1, "")
            self.report(node.comment, edits=(edit,), comment=_short(node.comment.value))

    def visit_TrailingWhitespace(self, node: cst.TrailingWhitespace) -> None:
        if node.comment is not None and is_narration(node.comment.value):
            start = self.position(node)
            end = self.position(node.comment)
            edit = Edit(
                start.start.line, start.start.column + 1, end.end.line, end.end.column + 1, ""
            )
            self.report(node.comment, edits=(edit,), comment=_short(node.comment.value))


def _short(comment: str) -> str:
    return comment if len(comment) <= 50 else comment[:47] + "..."
