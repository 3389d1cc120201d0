"""A comment that narrates the code adds noise instead of a reason.

What it does
Flags comments that narrate the code instead of explaining it. The patterns are deliberately
narrow (low false positives):

- numbered steps: ``# Step 1``, ``# Step 2:``, ``# STEP 3 -``;
- a sequencing word followed by "we", "I" or "let's": ``# Now we ...``, ``# Here we ...``,
  ``# Next, we ...``, ``# Then I ...``, ``# Finally we ...``, ``# First, let's ...``;
- ``# Let's ...`` / ``# Let us ...``;
- a sequencing word and a comma: ``# First, ...``, ``# Next, ...``, ``# Finally, ...``;
- ``# We now ...``, ``# We will now ...``, ``# We are going to ...``, ``# I will now ...``;
- a whole comment that only labels the obvious: ``# Forward pass``, ``# Backward pass``,
  ``# Compute the loss``, ``# Update weights``, ``# Zero gradients``, ``# Optimizer step``,
  ``# Print progress``, ``# Return the result``, ``# Import necessary libraries``,
  ``# Initialize the model``, ``# Define the model``, ``# Training loop``, ``# Load the data``.

Only a standalone comment line is flagged (or a trailing comment): the first line of a
multi-line comment block is usually the start of an explanation ("# First, a runtime assert
can ...") and is left alone, except for numbered steps.

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


_STEP = re.compile(r"^step\s*\d+\b", re.IGNORECASE)


# Whole comments that only name what the next line plainly does ("# Forward pass").
_LABEL = re.compile(
    r"^(forward pass|backward pass|backprop(agation)?|(compute|calculate) (the )?loss"
    r"|update (the )?(weights|parameters|params|model)|zero (the )?grad(ient)?s"
    r"|(take an )?optimizer step|print (the )?(progress|loss|results?)|return (the )?results?"
    r"|import (the )?(necessary |required )?(libraries|modules|packages|dependencies)"
    r"|(define|create|build) (the )?(model|optimizer)"
    r"|initiali[sz]e (the )?(model|optimizer|weights|variables|parameters)"
    r"|(main )?training loop|main function|load (the )?data(set)?)[.:]?$",
    re.IGNORECASE,
)


def is_narration(comment: str) -> bool:
    text = _text(comment)
    return bool(_NARRATION.match(text) or _LABEL.match(text))


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
            if self._in_comment_block(pos.start.line) and not _STEP.match(
                _text(node.comment.value)
            ):
                return
            edit = Edit(pos.start.line, 1, pos.end.line, pos.end.column + 1, "")
            self.report(node.comment, edits=(edit,), comment=_short(node.comment.value))

    def _in_comment_block(self, line: int) -> bool:
        """Whether the own-line comment on ``line`` (1-based) has a comment line next to it."""
        if "_lines" not in self.__dict__:
            self._lines = self.context.source.splitlines()
        neighbours = (
            self._lines[i].lstrip() for i in (line - 2, line) if 0 <= i < len(self._lines)
        )
        return any(text.startswith("#") for text in neighbours)

    def visit_TrailingWhitespace(self, node: cst.TrailingWhitespace) -> None:
        if node.comment is not None and is_narration(node.comment.value):
            start = self.position(node)
            end = self.position(node.comment)
            edit = Edit(
                start.start.line, start.start.column + 1, end.end.line, end.end.column + 1, ""
            )
            self.report(node.comment, edits=(edit,), comment=_short(node.comment.value))


def _text(comment: str) -> str:
    """The comment's words, without a trailing pragma (``# Forward pass  # noqa``)."""
    return comment.lstrip("#").split("  #", 1)[0].strip()


def _short(comment: str) -> str:
    return comment if len(comment) <= 50 else comment[:47] + "..."
