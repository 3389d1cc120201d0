"""The architecture gate: import-linter contracts from ``architecture/`` with their remediation.

Each broken contract becomes one finding per offending import chain, placed at the import that
starts the chain (file and line from import-linter's graph), with the chain ``a -> b -> c`` in
the message and the fix text kept beside the contract in ``architecture/remediation.toml``.
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from harness import git
from harness.codes import Code
from harness.findings import Finding
from harness.gates import Gate, GateContext, GateOutput
from harness.gates.tool_run import checker_command, run_tool
from harness.policy import CONTRACTS, REMEDIATION, Policy

DEFAULT_FIX = (
    "Remove the import, or move the code into a module the contract allows (architecture/README.md)"
)
BROKEN = Code(
    "ARCH001",
    "error",
    DEFAULT_FIX,
    "An import breaks an architecture contract from architecture/contracts.toml (described in "
    "architecture/README.md). The finding sits at the import that starts the offending chain and "
    "the message shows the whole chain `a -> b (l.N) -> c`; the fix title comes from "
    "architecture/remediation.toml. Contracts keep dependencies flowing one way: nanochat never "
    "imports harness, the sealed evaluation stays independent of the model and training code, "
    "harness.findings and the reporters stay pure data.",
)
UNCHECKABLE = Code(
    "ARCH002",
    "error",
    "Fix the contract configuration so every named module exists and the TOML parses",
    "The contracts could not be checked: architecture/contracts.toml (or remediation.toml) is "
    "missing or invalid, or import-linter failed to build the graph.",
)
ABSENT = Code(
    "ARCH003",
    "info",
    "Create the module or remove it from the contract",
    "A contract names a module that does not exist (yet), so that part of the contract is not "
    "checked. Create the module or drop it from the contract.",
)


def module_path(root: Path, module: str) -> str:
    """The repo-relative file of dotted ``module`` (its ``__init__.py`` for a package)."""
    base = Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if (root / candidate).is_file():
            return candidate.as_posix()
    return base.with_suffix(".py").as_posix()


def render_chain(chain: list[dict[str, Any]]) -> str:
    """``a -> b (l.3) -> c (l.7)``: each hop with the line of the import that makes it."""
    parts = [chain[0]["importer"]]
    for link in chain:
        lines = ",".join(str(n) for n in link["line_numbers"]) or "?"
        parts.append(f"{link['imported']} (l.{lines})")
    return " -> ".join(parts)


def load_remediation(text: str | None) -> tuple[dict[str, dict[str, str]], str]:
    """Remediation tables keyed by contract id, and an error text when the file is unreadable."""
    if text is None:
        return {}, ""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return {}, f"{REMEDIATION}: cannot read it ({err})"
    return {k: v for k, v in table.items() if isinstance(v, dict)}, ""


def contract_findings(
    root: Path, contract: dict[str, Any], remedy: dict[str, str]
) -> list[Finding]:
    """One ARCH001 finding per distinct offending import of a broken contract."""
    fix_title = remedy.get("fix_title") or DEFAULT_FIX
    why = remedy.get("why", "")
    seen: set[tuple[str, int]] = set()
    findings = []
    for chain in contract["chains"]:
        if not chain:
            continue
        first = chain[0]
        line = (first["line_numbers"] or [1])[0]
        if (first["importer"], line) in seen:
            continue
        seen.add((first["importer"], line))
        message = f"contract {contract['id']!r} ({contract['name']}) broken: {render_chain(chain)}"
        findings.append(
            BROKEN.finding(
                module_path(root, first["importer"]),
                message,
                line,
                fix_title=fix_title,
                why=why,
            )
        )
    for module in contract.get("undeclared") or []:
        findings.append(
            BROKEN.finding(
                module_path(root, module),
                f"contract {contract['id']!r}: module {module} belongs to no layer",
                fix_title=f"Add {module} to a layer of {contract['id']!r} in {CONTRACTS}",
                why=why,
            )
        )
    return findings


def _check(root: Path, contracts: str) -> dict[str, Any]:
    """Check the contracts in the TOML text ``contracts`` against the tree at ``root``."""
    with tempfile.TemporaryDirectory(prefix="harness-arch-") as scratch:
        output = Path(scratch) / "contracts.json"
        config = Path(scratch) / "contracts.toml"
        config.write_text(contracts, encoding="utf-8")
        ran = run_tool(
            [*checker_command("harness.gates.import_contracts"), str(config), str(output)], root
        )
        if ran.problem or not output.exists():
            return {
                "contracts": [],
                "absent": [],
                "error": ran.problem or ran.tail(3) or "no output",
            }
        try:
            return json.loads(output.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            return {"contracts": [], "absent": [], "error": f"unreadable checker output ({err})"}


OPTIONS: dict[str, type | tuple[type, ...]] = {"config": str}


def _policy_text(root: Path, policy: Policy, path: str) -> str | None:
    """The contracts file as the judge reads it: the base's unless the change's policy counts."""
    if path == CONTRACTS:
        return policy.read(CONTRACTS)
    if policy.is_from_base:
        return git.file_at(root, policy.base_commit, path)
    try:
        return (root / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def run(ctx: GateContext) -> GateOutput:
    config = str(ctx.options.get("config", CONTRACTS))
    contracts = _policy_text(ctx.root, ctx.policy, config)
    if contracts is None:
        return GateOutput(
            [
                UNCHECKABLE.finding(
                    config, f"{config} is missing", fix_title=f"Restore {config} from git"
                )
            ]
        )
    result = _check(ctx.root, contracts)
    remediation, remediation_error = load_remediation(ctx.policy.read(REMEDIATION))
    findings: list[Finding] = []
    if result.get("error") or remediation_error:
        findings.append(
            UNCHECKABLE.finding(
                config if result.get("error") else REMEDIATION,
                f"import contracts could not be checked: {result.get('error') or remediation_error}",
            )
        )
    for item in result.get("absent", []):
        findings.append(
            ABSENT.finding(
                config,
                f"contract {item['id']!r} names {item['module']}, which does not exist; "
                "not checked",
                fix_title=f"Create {item['module']} or remove it from the contract",
            )
        )
    contracts_checked = result.get("contracts", [])
    for contract in contracts_checked:
        if not contract["kept"]:
            findings.extend(
                contract_findings(ctx.root, contract, remediation.get(contract["id"], {}))
            )
    broken = sum(1 for c in contracts_checked if not c["kept"])
    return GateOutput(
        findings,
        {
            "contracts_kept": len(contracts_checked) - broken,
            "contracts_broken": broken,
            "modules": result.get("modules", 0),
            "imports": result.get("imports", 0),
        },
    )


GATE = Gate(
    description="import-linter contracts in architecture/contracts.toml hold",
    run=run,
    codes=(BROKEN, UNCHECKABLE, ABSENT),
    options=OPTIONS,
)
