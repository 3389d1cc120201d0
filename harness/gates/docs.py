"""The docs gate: what AGENTS.md, README.md and architecture/*.md say exists, exists.

Every path in backticks exists (DOC001); every ``harness`` subcommand and option, ``make``
target and ``python -m`` module resolves, with the flags its ``--help`` lists (DOC002); every
rule code is a real one (DOC003); AGENTS.md stays a map within its line budget (DOC004); every
lint rule is documented and has golden examples (DOC005); the generated rules reference matches
the rules (DOC006); CLAUDE.md points at AGENTS.md (DOC007).

Options (``[tool.harness.gates.docs]``): ``files`` (extra documents to check),
``agents_max_lines`` (default 150), ``ignore_paths`` (fnmatch patterns of paths that docs may
name without them existing, e.g. run outputs).
"""

from __future__ import annotations

import fnmatch
import time
from pathlib import Path

from harness.findings import Finding, GateResult
from harness.gates import Gate, GateContext
from harness.gates.doc_checks import (
    CommandIndex,
    known_codes,
    missing_paths,
    reference_findings,
    rule_findings,
)
from harness.gates.doc_mentions import Mention, mentions
from harness.gates.tool_run import (
    OPTION_CODE,
    OPTION_DOC,
    option_findings,
    problem_finding,
    with_fingerprints,
)

CORE_DOCS = ("AGENTS.md", "CLAUDE.md", "README.md")
AGENTS_MAX_LINES = 150


def doc_files(root: Path, extra: list[str]) -> list[str]:
    """The documents to check that exist: the core docs, architecture/*.md and ``extra``."""
    names = [
        *CORE_DOCS,
        *(p.relative_to(root).as_posix() for p in sorted(root.glob("architecture/*.md"))),
        *extra,
    ]
    return [n for n in dict.fromkeys(names) if (root / n).is_file()]


def _finding(code: str, path: str, mention: Mention, message: str, fix_title: str) -> Finding:
    return Finding(
        rule=code,
        severity="error",
        path=path,
        line=mention.line,
        col=mention.col,
        message=message,
        fix_title=fix_title,
        why="Agents act on what the docs say; a stale path or command sends them the wrong way.",
        doc=f"harness explain {code}",
    )


def check_document(
    root: Path, path: str, text: str, commands: CommandIndex, codes: set[str], ignore: list[str]
) -> list[Finding]:
    """DOC001-DOC003 findings for one document."""
    found = mentions(text)
    prefixes = {c.rstrip("0123456789") for c in codes}
    path_mentions = [
        m for m in found if m.kind == "path" and not any(fnmatch.fnmatch(m.text, p) for p in ignore)
    ]
    missing = missing_paths(root, Path(path).parent, [m.text for m in path_mentions])
    findings = []
    for mention in found:
        if mention.kind == "path" and mention in path_mentions and mention.text in missing:
            findings.append(
                _finding(
                    "DOC001",
                    path,
                    mention,
                    f"{path} names `{mention.text}`, which does not exist",
                    f"Fix the path in {path}, or create `{mention.text}`",
                )
            )
        elif mention.kind == "module":
            problem = commands.module_problem(mention.text, mention.options)
            if problem:
                findings.append(
                    _finding(
                        "DOC002",
                        path,
                        mention,
                        f"{path}: `python -m {mention.text}`: {problem}",
                        f"Fix the module or flag in {path} to match `python -m {mention.text} --help`",
                    )
                )
        elif mention.kind in ("harness", "make"):
            problem = commands.problem(mention.kind, mention.text)
            if problem:
                findings.append(
                    _finding(
                        "DOC002",
                        path,
                        mention,
                        f"{path}: `{mention.text}`: {problem}",
                        f"Fix the command in {path} to match `{mention.kind} --help`"
                        if mention.kind == "harness"
                        else f"Fix the target in {path}, or add it to the Makefile",
                    )
                )
        elif (
            mention.kind == "code"
            and mention.text.rstrip("0123456789") in prefixes
            and mention.text not in codes
        ):
            findings.append(
                _finding(
                    "DOC003",
                    path,
                    mention,
                    f"{path} names rule code {mention.text}, which no rule or gate defines",
                    f"Fix the code in {path}; `harness rules` lists the real ones",
                )
            )
    return findings


OPTIONS: dict[str, type | tuple[type, ...]] = {
    "files": list,
    "agents_max_lines": int,
    "ignore_paths": list,
}


def run(ctx: GateContext) -> GateResult:
    start = time.perf_counter()
    bad_options = option_findings(ctx.root, "docs", ctx.options, OPTIONS)
    if bad_options:
        return GateResult("docs", ok=False, findings=bad_options)
    files = doc_files(ctx.root, [str(f) for f in ctx.options.get("files", [])])
    ignore = [str(p) for p in ctx.options.get("ignore_paths", [])]
    commands = CommandIndex(ctx.root)
    codes = known_codes()
    findings: list[Finding] = []
    texts: dict[str, str] = {}
    for path in files:
        try:
            texts[path] = (ctx.root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            findings.append(
                problem_finding(
                    "DOC001",
                    path,
                    f"cannot read {path}: {err}",
                    f"Make {path} a readable UTF-8 file",
                )
            )
    flagged = [
        m.text for t in texts.values() for m in mentions(t) if m.kind == "module" and m.options
    ]
    commands.read_module_help(flagged)
    for path, text in texts.items():
        findings.extend(check_document(ctx.root, path, text, commands, codes, ignore))
    max_lines = int(ctx.options.get("agents_max_lines", AGENTS_MAX_LINES))
    agents = ctx.root / "AGENTS.md"
    if not agents.is_file():
        findings.append(
            problem_finding(
                "DOC007",
                "AGENTS.md",
                "AGENTS.md is missing: agents have no map of the repository",
                "Write AGENTS.md: what this repo is, the commands, where things live, how to read `harness check`",
            )
        )
    else:
        count = len(agents.read_text(encoding="utf-8", errors="replace").splitlines())
        if count > max_lines:
            findings.append(
                problem_finding(
                    "DOC004",
                    "AGENTS.md",
                    f"AGENTS.md has {count} lines, over its budget of {max_lines}",
                    "Move detail into docs/ or architecture/ and link it; keep AGENTS.md a map",
                )
            )
    claude = ctx.root / "CLAUDE.md"
    if not claude.is_file() or "@AGENTS.md" not in claude.read_text(
        encoding="utf-8", errors="replace"
    ):
        findings.append(
            problem_finding(
                "DOC007",
                "CLAUDE.md",
                "CLAUDE.md is missing or does not include `@AGENTS.md`",
                "Create CLAUDE.md containing the line `@AGENTS.md`",
            )
        )
    findings.extend(rule_findings(ctx.root))
    findings.extend(reference_findings(ctx.root))
    return GateResult(
        "docs",
        ok=not any(f.severity == "error" for f in findings),
        duration_s=time.perf_counter() - start,
        findings=with_fingerprints(ctx.root, findings),
        metrics={"documents": len(files), "problems": len(findings)},
    )


GATE = Gate(
    id="docs",
    tier="full",
    description="AGENTS.md and architecture docs name only paths, commands and codes that exist",
    run=run,
    codes={
        OPTION_CODE: OPTION_DOC,
        "DOC001": "A document (AGENTS.md, README.md, CLAUDE.md, architecture/*.md) names a "
        "path in backticks that does not exist, relative to the repository root or to the "
        "document. Fix the path or create the file.",
        "DOC002": "A document names a command that does not exist: a `harness` subcommand or "
        "option, a `make` target, or a `python -m` module that does not resolve.",
        "DOC003": "A document names a rule or finding code (such as NC101 or PROT001) that no "
        "rule or gate defines. `harness rules` lists the rule codes; `harness explain CODE` "
        "shows one.",
        "DOC004": "AGENTS.md is longer than its budget (150 lines by default, option "
        "`agents_max_lines`). It is the map an agent reads first; detail belongs in linked docs.",
        "DOC005": "A lint rule lacks a docs section (What it does, Why is this bad?, Example, "
        "Use instead) or golden examples (golden/CODE/ with at least one bad_*.py and one "
        "good_*.py).",
        "DOC006": "The generated rules reference (docs/rules.md) differs from what the rules "
        "render now. Regenerate it with the command the file's header names.",
        "DOC007": "AGENTS.md is missing, or CLAUDE.md is missing or does not include "
        "`@AGENTS.md` (so Claude Code would not read the map).",
    },
)
