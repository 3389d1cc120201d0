"""The hosted-CI workflow is valid YAML with the steps that install, check and upload SARIF."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / "ci" / "github-workflow.yml"


def steps() -> list[dict]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    return job["steps"]


def test_workflow_runs_on_pull_requests_and_pushes() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert set(workflow["on"]) == {"pull_request", "push"}
    assert workflow["permissions"]["security-events"] == "write"


def test_workflow_checks_out_full_history_for_test_integrity() -> None:
    checkout = next(s for s in steps() if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0


def test_workflow_installs_with_make_and_runs_both_report_formats() -> None:
    commands = "\n".join(s.get("run", "") for s in steps())
    assert "make install" in commands
    assert "harness check $base --format github --json-output harness.json" in commands
    assert "--format sarif --output harness.sarif" in commands


def test_workflow_uploads_the_sarif_file_even_when_the_check_fails() -> None:
    upload = next(
        s for s in steps() if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    )
    assert upload["with"]["sarif_file"] == "harness.sarif"
    assert upload["if"].startswith("always()")


def test_every_step_has_either_a_command_or_an_action() -> None:
    assert all(("run" in s) != ("uses" in s) for s in steps())
