"""The architecture gate checks real import-linter contracts on a temporary package."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.check import run_gate
from harness.gates import GateContext

CONTRACTS = """
[tool.importlinter]
root_packages = ["demoapp"]

[[tool.importlinter.contracts]]
id = "core-pure"
name = "core never imports ui"
type = "forbidden"
source_modules = ["demoapp.core"]
forbidden_modules = ["demoapp.ui"]

[[tool.importlinter.contracts]]
id = "layers"
name = "ui above core"
type = "layers"
containers = ["demoapp"]
layers = ["ui", "core"]
"""

REMEDIATION = """
[core-pure]
fix_title = "Pass the widget in instead of importing demoapp.ui"
why = "core must run headless."
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {
        "architecture/contracts.toml": CONTRACTS,
        "architecture/remediation.toml": REMEDIATION,
        "demoapp/__init__.py": "",
        "demoapp/ui.py": "from demoapp import core\n",
        "demoapp/core/__init__.py": "",
        "demoapp/core/model.py": '"""Model."""\n\nimport os\nfrom demoapp.core import helpers\n',
        "demoapp/core/helpers.py": "X = 1\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_kept_contracts_pass_with_metrics(project: Path) -> None:
    result = run_gate("architecture", GateContext(root=project))
    assert result.ok and result.findings == []
    assert result.metrics["contracts_kept"] == 2 and result.metrics["contracts_broken"] == 0


def test_indirect_violation_reports_the_chain_at_the_importing_line(project: Path) -> None:
    (project / "demoapp/core/helpers.py").write_text("X = 1\n\n\nimport demoapp.ui\n")
    result = run_gate("architecture", GateContext(root=project))
    assert not result.ok
    forbidden = [f for f in result.findings if "'core-pure'" in f.message]
    assert [(f.rule, f.path, f.line) for f in forbidden] == [
        ("ARCH001", "demoapp/core/helpers.py", 4)
    ]
    assert forbidden[0].fix_title == "Pass the widget in instead of importing demoapp.ui"
    assert forbidden[0].why == "core must run headless."
    assert result.metrics["contracts_broken"] == 2


def test_chain_message_shows_every_hop_with_line_numbers(project: Path) -> None:
    (project / "demoapp/core/helpers.py").write_text("X = 1\nimport demoapp.bridge\n")
    (project / "demoapp/bridge.py").write_text("import demoapp.ui\n")
    (project / "demoapp/ui.py").write_text("X = 2\n")
    findings = run_gate("architecture", GateContext(root=project)).findings
    (forbidden,) = [f for f in findings if "'core-pure'" in f.message]
    assert forbidden.message.endswith(
        "demoapp.core.helpers -> demoapp.bridge (l.2) -> demoapp.ui (l.1)"
    )
    assert (forbidden.path, forbidden.line) == ("demoapp/core/helpers.py", 2)


def test_layer_violation_without_remediation_gets_the_default_fix(project: Path) -> None:
    (project / "demoapp/core/helpers.py").write_text("from demoapp import ui\n")
    layer = [
        f
        for f in run_gate("architecture", GateContext(root=project)).findings
        if "'layers'" in f.message
    ]
    assert layer and layer[0].path == "demoapp/core/helpers.py" and layer[0].line == 1
    assert layer[0].fix_title.startswith("Remove the import")


def test_module_missing_from_a_contract_is_info_not_failure(project: Path) -> None:
    text = CONTRACTS.replace(
        'source_modules = ["demoapp.core"]', 'source_modules = ["demoapp.core", "demoapp.later"]'
    )
    (project / "architecture/contracts.toml").write_text(text)
    result = run_gate("architecture", GateContext(root=project))
    assert result.ok
    assert [(f.rule, f.severity) for f in result.findings] == [("ARCH003", "info")]


def test_missing_contracts_file_is_arch002(project: Path) -> None:
    (project / "architecture/contracts.toml").unlink()
    (finding,) = run_gate("architecture", GateContext(root=project)).findings
    assert (finding.rule, finding.path) == ("ARCH002", "architecture/contracts.toml")


def test_invalid_contract_is_arch002_not_a_crash(project: Path) -> None:
    (project / "architecture/contracts.toml").write_text(
        CONTRACTS.replace('type = "layers"', 'type = "nonsense"')
    )
    result = run_gate("architecture", GateContext(root=project))
    assert not result.ok and result.findings[0].rule == "ARCH002"


def test_this_repository_keeps_its_contracts() -> None:
    root = Path(__file__).resolve().parents[2]
    result = run_gate("architecture", GateContext(root=root))
    broken = [f"{f.path}:{f.line}: {f.message}" for f in result.findings if f.severity == "error"]
    assert broken == []
    assert result.metrics["contracts_kept"] >= 4
