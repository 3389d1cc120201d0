"""The codes the lint engine emits about files and suppressions, not about code (HC001-HC007)."""

from __future__ import annotations

from harness.codes import Code

PARSE_ERROR = Code(
    "HC001",
    "error",
    "Fix the syntax error so the file parses",
    "The file does not parse as Python, so no rule could check it. Fix the syntax error at the "
    "reported position.",
)
MISSING_REASON = Code(
    "HC002",
    "error",
    "Write why the finding does not apply after the bracket",
    "A `# harness: ignore[CODE]` suppression without a reason. Write after the bracket why the "
    "finding does not apply here, so a reviewer can judge it.",
)
UNUSED_SUPPRESSION = Code(
    "HC003",
    "warning",
    "Remove the suppression",
    "A suppression that suppresses nothing: the rule no longer fires on that line. Delete it (the "
    "fix does) so suppressions stay meaningful.",
)
STALE_BASELINE = Code(
    "HC004",
    "warning",
    "Delete the entry from the baseline",
    "A baseline entry whose finding no longer occurs. Delete the entry: the baseline may only "
    "shrink.",
)
UNREADABLE = Code(
    "HC005",
    "error",
    "Make the file readable UTF-8 Python text, or exclude it in [tool.harness] exclude",
    "A path that cannot be linted: unreadable, not UTF-8 (or its declared encoding), NUL bytes, "
    "over the size budget (max-file-mb), or a symlink leading out of the repository or round in "
    "a loop. Fix the file or add it to [tool.harness] exclude.",
)
UNKNOWN_SUPPRESSED_CODE = Code(
    "HC006",
    "error",
    "Use a code listed by `harness rules`, or remove the suppression",
    "A suppression naming a code no rule has (a typo or a removed rule). Use a code from "
    "`harness rules` or delete the suppression. Test-integrity and seal findings (TI*, PROT*) "
    "cannot be suppressed inline: a maintainer acknowledges them with `harness protect approve "
    "--acknowledge PATH` in a signed commit.",
)
BASELINE_GREW = Code(
    "HC007",
    "error",
    "Fix the finding instead of adding it to the baseline",
    "The baseline gained entries against --base. New findings must be fixed, not added to the "
    "baseline.",
)
ENGINE_CODES: dict[str, Code] = {
    c.code: c
    for c in (
        PARSE_ERROR,
        MISSING_REASON,
        UNUSED_SUPPRESSION,
        STALE_BASELINE,
        UNREADABLE,
        UNKNOWN_SUPPRESSED_CODE,
        BASELINE_GREW,
    )
}
