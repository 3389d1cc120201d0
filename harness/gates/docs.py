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
from pathlib import Path

from harness.findings import Finding
from harness.gates import Gate, GateContext, GateOutput
from harness.gates.doc_checks import (
    CODES,
    CommandIndex,
    known_codes,
    missing_paths,
    reference_findings,
    rule_findings,
)
from harness.gates.doc_mentions import Mention, mentions

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
    return CODES[code].finding(path, message, mention.line, mention.col, fix_title=fix_title)


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
        elif mention.kind in ("module", "harness", "make"):
            problem, command, fix_title = _command_problem(commands, path, mention)
            if problem:
                message = f"{path}: `{command}`: {problem}"
                findings.append(_finding("DOC002", path, mention, message, fix_title))
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


def _command_problem(commands: CommandIndex, path: str, mention: Mention) -> tuple[str, str, str]:
    """(why the command a document names does not resolve, the command, the fix) for a
    ``python -m`` module, a ``harness`` command or a ``make`` target."""
    if mention.kind == "module":
        command = f"python -m {mention.text}"
        fix_title = f"Fix the module or flag in {path} to match `{command} --help`"
        return commands.module_problem(mention.text, mention.options), command, fix_title
    if mention.kind == "harness":
        fix_title = f"Fix the command in {path} to match `harness --help`"
    else:
        fix_title = f"Fix the target in {path}, or add it to the Makefile"
    return commands.problem(mention.kind, mention.text), mention.text, fix_title


OPTIONS: dict[str, type | tuple[type, ...]] = {
    "files": list,
    "agents_max_lines": int,
    "ignore_paths": list,
}


def run(ctx: GateContext) -> GateOutput:
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
                CODES["DOC001"].finding(
                    path,
                    f"cannot read {path}: {err}",
                    fix_title=f"Make {path} a readable UTF-8 file",
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
            CODES["DOC007"].finding(
                "AGENTS.md",
                "AGENTS.md is missing: agents have no map of the repository",
                fix_title="Write AGENTS.md: what this repo is, the commands, where things live, how to read `harness check`",
            )
        )
    else:
        count = len(agents.read_text(encoding="utf-8", errors="replace").splitlines())
        if count > max_lines:
            findings.append(
                CODES["DOC004"].finding(
                    "AGENTS.md",
                    f"AGENTS.md has {count} lines, over its budget of {max_lines}",
                    fix_title="Move detail into docs/ or architecture/ and link it; keep AGENTS.md a map",
                )
            )
    claude = ctx.root / "CLAUDE.md"
    if not claude.is_file() or "@AGENTS.md" not in claude.read_text(
        encoding="utf-8", errors="replace"
    ):
        findings.append(
            CODES["DOC007"].finding(
                "CLAUDE.md",
                "CLAUDE.md is missing or does not include `@AGENTS.md`",
                fix_title="Create CLAUDE.md containing the line `@AGENTS.md`",
            )
        )
    findings.extend(rule_findings(ctx.root))
    findings.extend(reference_findings(ctx.root))
    return GateOutput(findings, {"documents": len(files), "problems": len(findings)})


GATE = Gate(
    description="AGENTS.md and architecture docs name only paths, commands and codes that exist",
    run=run,
    codes=tuple(CODES.values()),
    options=OPTIONS,
)
