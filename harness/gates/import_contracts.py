"""Check import-linter contracts and write the result as plain JSON (run in a child process).

The architecture gate runs this module's ``main([CONFIG, OUTPUT])`` from the judging checker's
own files (``tool_run.checker_command``) with the repository as working directory; ``main``
then drops the checker's ``harness`` modules and puts the repository first on ``sys.path``, so
the import graph is built from the files under review, never from the checker's copy. The output is::

    {"contracts": [{"id", "name", "type", "kept", "chains": [[{"importer", "imported",
      "line_numbers"}, ...], ...]}], "absent": [{"id", "module"}], "error": str,
      "modules": int, "imports": int}

Modules a contract names that do not exist yet are dropped before checking (a forbidden module
that does not exist cannot be imported); a contract left without source modules is listed
under ``absent`` instead of failing the whole run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Contract fields that name modules of the project (as opposed to external packages).
_MODULE_LISTS = ("source_modules", "forbidden_modules", "modules")
_SOURCE_LISTS = ("source_modules", "modules")
_LINK_KEYS = {"importer", "imported", "line_numbers"}


def module_exists(root: Path, name: str) -> bool:
    """Whether dotted ``name`` is a module or package under ``root`` (wildcards always count)."""
    if "*" in name:
        return True
    base = root.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _is_internal(name: str, root_packages: list[str]) -> bool:
    return name.split(".")[0] in root_packages


def drop_absent_modules(
    root: Path, contracts: list[dict[str, Any]], root_packages: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Contracts with absent project modules removed, and (contract id, module) pairs dropped."""
    kept_contracts, absent = [], []
    for contract in contracts:
        contract = dict(contract)
        is_empty = False
        for key in _MODULE_LISTS:
            names = contract.get(key)
            if not isinstance(names, list):
                continue
            present = [
                n for n in names if not _is_internal(n, root_packages) or module_exists(root, n)
            ]
            missing = [n for n in names if n not in present]
            if missing and key in _SOURCE_LISTS:
                absent.extend(
                    {"id": contract.get("id", contract.get("name", "")), "module": m}
                    for m in missing
                )
            contract[key] = present
            is_empty = is_empty or (key in _SOURCE_LISTS and not present)
        if is_empty:
            continue
        kept_contracts.append(contract)
    return kept_contracts, absent


def _chains(metadata: Any) -> list[list[dict[str, Any]]]:
    """Every import chain in a contract check's metadata, whatever the contract type."""
    if isinstance(metadata, dict):
        if isinstance(metadata.get("chain"), list):
            return [metadata["chain"]]
        return [c for value in metadata.values() for c in _chains(value)]
    if isinstance(metadata, list):
        if metadata and all(isinstance(x, dict) and _LINK_KEYS <= x.keys() for x in metadata):
            return [metadata]
        return [c for item in metadata for c in _chains(item)]
    if hasattr(metadata, "__dict__"):
        return _chains(vars(metadata))
    return []


def _link(raw: dict[str, Any]) -> dict[str, Any]:
    numbers = raw.get("line_numbers") or ()
    if not numbers and raw.get("line_number") is not None:
        numbers = (raw["line_number"],)
    return {
        "importer": raw["importer"],
        "imported": raw["imported"],
        "line_numbers": sorted(n for n in numbers if isinstance(n, int) and n > 0),
    }


def check_contracts(root: Path, config: Path) -> dict[str, Any]:
    """Run every contract in ``config`` against the packages under ``root``."""
    from importlinter import api  # noqa: F401  (configures import-linter's adapters)
    from importlinter.application import use_cases

    options = use_cases.read_user_options(str(config))
    root_packages = list(options.session_options.get("root_packages") or [])
    present_roots = [p for p in root_packages if module_exists(root, p)]
    if not present_roots:
        return {
            "contracts": [],
            "absent": [],
            "error": f"no root package of {root_packages} exists",
        }
    options.session_options["root_packages"] = present_roots
    contracts, absent = drop_absent_modules(root, options.contracts_options, present_roots)
    options.contracts_options[:] = contracts
    # import-linter's CLI registers the built-in contract types the same way before checking.
    use_cases._register_built_in_contract_types()
    report = use_cases.create_report(options, cache_dir=None)
    if report.invalid_contract_options:
        problems = "; ".join(
            f"{name}: {err}" for name, err in report.invalid_contract_options.items()
        )
        return {"contracts": [], "absent": absent, "error": f"invalid contract options: {problems}"}
    results = []
    for contract, check in report.get_contracts_and_checks():
        chains = [[_link(x) for x in chain] for chain in _chains(check.metadata)]
        results.append(
            {
                "id": contract.contract_options.get("id", contract.name),
                "name": contract.name,
                "type": contract.contract_options.get("type", ""),
                "kept": bool(check.kept),
                "chains": chains,
                "undeclared": sorted(check.metadata.get("undeclared_modules") or []),
            }
        )
    return {
        "contracts": results,
        "absent": absent,
        "error": "",
        "modules": report.module_count,
        "imports": report.import_count,
    }


def main(argv: list[str]) -> int:
    config, output = Path(argv[0]), Path(argv[1])
    root = Path.cwd()
    for name in [m for m in sys.modules if m == "harness" or m.startswith("harness.")]:
        del sys.modules[name]  # grimp finds packages through sys.modules first
    sys.path.insert(0, str(root))
    try:
        result = check_contracts(root, config)
    except Exception as err:  # any import-linter failure becomes the gate's one-line finding
        result = {"contracts": [], "absent": [], "error": f"{type(err).__name__}: {err}"}
    output.write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
