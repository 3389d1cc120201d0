"""The facts the docs gate checks mentions against: files, commands, modules, codes, rule docs.

``CommandIndex`` knows the ``harness`` command tree (read from the installed CLI in a child
process, so harness.cli is never imported here) and the Makefile's targets.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any

from harness.codes import Code
from harness.findings import Finding
from harness.gates import GATE_IDS, load_gate
from harness.gates.tool_run import run_tool
from harness.lint.rule import REQUIRED_DOC_SECTIONS

WHY = "Agents act on what the docs say; a stale path or command sends them the wrong way."
CODES: dict[str, Code] = {
    code.code: code
    for code in (
        Code(
            "DOC001",
            "error",
            "Fix the path in the document, or create the file",
            "A document (AGENTS.md, README.md, CLAUDE.md, architecture/*.md) names a path in backticks that does not exist, relative to the repository root or to the document. Fix the path or create the file.",
            WHY,
        ),
        Code(
            "DOC002",
            "error",
            "Fix the command to match its --help",
            "A document names a command that does not exist: a `harness` subcommand or option, a `make` target, or a `python -m` module that does not resolve.",
            WHY,
        ),
        Code(
            "DOC003",
            "error",
            "Fix the code; `harness rules` lists the real ones",
            "A document names a rule or finding code (such as NC101 or PROT001) that no rule or gate defines. `harness rules` lists the rule codes; `harness explain CODE` shows one.",
            WHY,
        ),
        Code(
            "DOC004",
            "error",
            "Move detail into docs/ or architecture/ and link it; keep AGENTS.md a map",
            "AGENTS.md is longer than its budget (150 lines by default, option `agents_max_lines`). It is the map an agent reads first; detail belongs in linked docs.",
            WHY,
        ),
        Code(
            "DOC005",
            "error",
            "Write the rule's docs sections and golden examples",
            "A lint rule lacks a docs section (What it does, Why is this bad?, Example, Use instead) or golden examples (golden/CODE/ with at least one bad_*.py and one good_*.py).",
            WHY,
        ),
        Code(
            "DOC006",
            "error",
            "Regenerate the reference with the command its header names",
            "The generated rules reference (docs/rules.md) differs from what the rules render now. Regenerate it with the command the file's header names.",
            WHY,
        ),
        Code(
            "DOC007",
            "error",
            "Create CLAUDE.md containing the line `@AGENTS.md`",
            "AGENTS.md is missing, or CLAUDE.md is missing or does not include `@AGENTS.md` (so Claude Code would not read the map).",
            WHY,
        ),
    )
}

REFERENCE = "docs/rules.md"
REGENERATE = "python -m harness.catalog.reference --write"
_OPTION = re.compile(r"(?<![\w-])(--[A-Za-z0-9][\w-]*)")
_MAKE_TARGET = re.compile(r"^([A-Za-z0-9_.%/\- ]+?)\s*::?(?!=)")
# Walks the click tree of harness.cli: {"sub command": {"options": [...], "commands": [...]}}.
_CLI_PROBE = """
import json, sys
import click
from harness.cli import main

def walk(cmd, path, out):
    opts = sorted(o for p in cmd.params for o in [*p.opts, *p.secondary_opts] if o.startswith("-"))
    subs = sorted(cmd.commands) if isinstance(cmd, click.Group) else []
    out[" ".join(path)] = {"options": opts, "commands": subs}
    for name in subs:
        walk(cmd.commands[name], [*path, name], out)
    return out

json.dump(walk(main, [], {}), sys.stdout)
"""


class CommandIndex:
    """Answers "does this `harness ...` / `make ...` command exist?" for one repository."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._module_help: dict[str, set[str] | None] = {}  # module -> its --help options

    @cached_property
    def harness_tree(self) -> dict[str, Any] | str:
        ran = run_tool([sys.executable, "-c", _CLI_PROBE], self.root, timeout_s=60)
        try:
            return json.loads(ran.stdout) if ran.returncode == 0 else ran.problem or ran.tail(1)
        except json.JSONDecodeError:
            return "the harness CLI printed no command tree"

    @cached_property
    def make_targets(self) -> set[str] | None:
        try:
            text = (self.root / "Makefile").read_text(encoding="utf-8")
        except OSError:
            return None
        targets: set[str] = set()
        for line in text.splitlines():
            match = _MAKE_TARGET.match(line)
            if match and not line.startswith(("\t", " ")):
                targets.update(t for t in match.group(1).split() if not t.startswith("."))
        return targets

    def read_module_help(self, modules: list[str]) -> None:
        """Run ``python -m MODULE --help`` for each module at once (each may import torch)."""
        todo = sorted(
            {m for m in modules if m not in self._module_help and module_resolves(self.root, m)}
        )
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=len(todo)) as pool:
            runs = pool.map(
                lambda m: run_tool([sys.executable, "-m", m, "--help"], self.root, timeout_s=120),
                todo,
            )
            for module, ran in zip(todo, runs, strict=True):
                ok = ran.returncode == 0 and not ran.problem
                self._module_help[module] = set(_OPTION.findall(ran.stdout)) if ok else None

    def module_problem(self, module: str, options: tuple[str, ...]) -> str:
        """Why ``python -m module OPTIONS`` would fail to start, or an empty string."""
        if not module_resolves(self.root, module):
            return "the module does not resolve"
        if not options:
            return ""
        if module not in self._module_help:
            self.read_module_help([module])
        known = self._module_help[module]
        unknown = [o for o in options if known is not None and o not in known]
        return f"no option {unknown[0]} (not in its --help)" if unknown else ""

    def problem(self, kind: str, command: str) -> str:
        """Why ``command`` does not exist, or an empty string when it does."""
        words = [w.strip("[]") for w in command.split()[1:]]
        words = words[
            : next((i for i, w in enumerate(words) if w in ("|", "&&", ">", "#", "||")), len(words))
        ]
        return self._harness_problem(words) if kind == "harness" else self._make_problem(words)

    def _make_problem(self, words: list[str]) -> str:
        if self.make_targets is None:
            return "there is no Makefile"
        unknown = [
            w
            for w in words
            if w and not w.startswith("-") and "=" not in w and w not in self.make_targets
        ]
        return f"no make target {unknown[0]!r}" if unknown else ""

    def _harness_problem(self, words: list[str]) -> str:
        tree = self.harness_tree
        if isinstance(tree, str):
            return f"the harness CLI could not be loaded ({tree})"
        node = ""
        for word in words:
            word = word.rstrip(".")
            if not word:
                continue
            if word.startswith("-"):
                option = word.split("=", 1)[0]
                if option not in tree[node]["options"] and option not in ("-h", "--help"):
                    return f"`harness {node}`".replace(" `", "`") + f" has no option {option}"
            elif word in tree[node]["commands"]:
                node = f"{node} {word}".strip()
            elif tree[node]["commands"]:
                return f"`harness {node}`".replace(" `", "`") + f" has no subcommand {word!r}"
        return ""


def module_resolves(root: Path, module: str) -> bool:
    """Whether ``python -m module`` would find something: a repo module or an installed package."""
    parts = module.split(".")
    base = root.joinpath(*parts)
    if base.with_suffix(".py").is_file() or (base / "__main__.py").is_file():
        return True
    if (root / parts[0] / "__init__.py").is_file() or (root / f"{parts[0]}.py").is_file():
        return False
    return importlib.util.find_spec(parts[0]) is not None


def missing_paths(root: Path, doc_dir: Path, paths: list[str]) -> set[str]:
    """The ``paths`` that exist neither under ``root`` nor beside the document, nor are git-ignored."""
    missing = set()
    for text in set(paths):
        clean = text.rstrip("/")
        if any(ch in clean for ch in "*?["):
            if not next(iter(root.glob(clean)), None):
                missing.add(text)
        elif not ((root / clean).exists() or (root / doc_dir / clean).exists()):
            missing.add(text)
    if not missing:
        return missing
    # As written: `.venv/` must keep its slash to match a folder-only pattern such as `.venv/`
    # when the folder does not exist yet (a fresh clone).
    ignored = subprocess.run(
        ["git", "check-ignore", "--stdin", "--no-index"],
        cwd=root,
        input="\n".join(sorted(missing)),
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return {p for p in missing if p not in ignored}


def _problem(code: str, path: str, message: str, fix_title: str) -> Finding:
    return CODES[code].finding(path, message, fix_title=fix_title)


def known_codes() -> set[str]:
    """Codes of every lint rule and every gate finding."""
    import rules

    try:
        codes = {r.code for r in rules.all_rules()}
    except RuntimeError:
        codes = set()  # a broken registry (duplicate codes) is the rules gate's finding
    from harness.lint.codes import ENGINE_CODES

    codes.update(ENGINE_CODES)
    for gate_id in GATE_IDS:
        codes.update(c.code for c in load_gate(gate_id).codes)
    return codes


def _rules_live_in(root: Path) -> bool:
    import rules

    return Path(rules.__file__).resolve().parent.parent == root.resolve()


def rule_findings(root: Path) -> list[Finding]:
    """DOC005: rules without their docs sections or golden examples (rules of this repo only)."""
    if not _rules_live_in(root):
        return []
    import rules

    try:
        registered = rules.all_rules()
    except RuntimeError as err:
        return [_problem("DOC005", "rules/__init__.py", str(err), "Fix the rule registry")]
    findings = []
    for rule in registered:
        source = Path(sys.modules[rule.__module__].__file__ or "").resolve()
        rule_path = source.relative_to(root.resolve()).as_posix()
        absent = [s for s in REQUIRED_DOC_SECTIONS if not rule.docs().get(s)]
        if absent:
            findings.append(
                _problem(
                    "DOC005",
                    rule_path,
                    f"rule {rule.code} lacks docs sections: {', '.join(absent)}",
                    "Add the missing sections to the rule's docstring",
                )
            )
        golden = root / "golden" / rule.code
        for kind in ("bad", "good"):
            if not any(golden.glob(f"{kind}_*.py")):
                findings.append(
                    _problem(
                        "DOC005",
                        rule_path,
                        f"rule {rule.code} has no golden/{rule.code}/{kind}_*.py example",
                        f"Add golden/{rule.code}/{kind}_<case>.py annotated with the findings it must produce",
                    )
                )
    return findings


def reference_findings(root: Path, reference_path: str = REFERENCE) -> list[Finding]:
    """DOC006: the committed rules reference differs from what the renderer produces now."""
    if not _rules_live_in(root):
        return []
    from harness.catalog.reference import render_rules_reference

    expected = render_rules_reference()
    try:
        committed = (root / reference_path).read_text(encoding="utf-8")
    except OSError:
        committed = None
    if committed == expected:
        return []
    what = "is missing" if committed is None else "is out of date with the rules"
    named = re.search(r"Generated by `([^`]+)`", committed or "")
    command = named.group(1) if named else REGENERATE
    return [
        _problem(
            "DOC006",
            reference_path,
            f"{reference_path} {what}",
            f"Regenerate {reference_path} with `{command}`",
        )
    ]
