"""The hosted-CI workflow lets the base judge the pull request: valid YAML with the jobs that
read the maintainer label, check the PR's checkout with the base's harness, and upload SARIF."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / "ci" / "github-workflow.yml"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(job: str) -> list[dict]:
    return workflow()["jobs"][job]["steps"]


def commands(job: str) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def test_the_workflow_comes_from_the_base_branch_not_from_the_pull_request() -> None:
    triggers = workflow()["on"]
    assert set(triggers) == {"pull_request_target", "push"}
    assert "synchronize" in triggers["pull_request_target"]["types"]
    assert "labeled" in triggers["pull_request_target"]["types"]


def test_no_job_gets_a_token_it_does_not_declare() -> None:
    assert workflow()["permissions"] == {}
    assert workflow()["jobs"]["check"]["permissions"] == {"contents": "read"}


def test_the_judge_is_installed_from_the_base_and_checks_the_change() -> None:
    checkouts = {
        s["with"]["path"]: s["with"]
        for s in steps("check")
        if s.get("uses", "").startswith("actions/checkout@")
    }
    assert checkouts["judge"]["ref"].startswith("${{ env.BASE_SHA")
    assert checkouts["change"]["ref"] == "${{ env.HEAD_SHA }}"
    assert checkouts["change"]["fetch-depth"] == 0
    assert all(c["persist-credentials"] is False for c in checkouts.values())
    run = commands("check")
    assert 'pip install -q -c judge/ci/constraints-cpu.txt "./judge[dev]"' in run
    assert "set -- --root change $base_arg --format github --json-output harness.json" in run
    assert '.judge/bin/harness check "$@"' in run
    assert "make install" not in run and "-e ." not in run


def test_the_maintainer_flag_comes_only_from_the_label_job() -> None:
    check = workflow()["jobs"]["check"]
    assert check["env"]["APPROVED_BY"] == "${{ needs.approval.outputs.approved-by }}"
    assert '--maintainer-approval "$APPROVED_BY"' in commands("check")
    approval = commands("approval")
    assert 'if [ "$HAS_LABEL" = "true" ] && [ "$ACTION" = "synchronize" ]' in approval
    assert "gh api -X DELETE" in approval
    assert not any("uses" in s for s in steps("approval")), "the label job runs no PR code"


def test_sarif_is_uploaded_by_a_job_that_runs_nothing_of_the_pull_request() -> None:
    upload_job = workflow()["jobs"]["upload-sarif"]
    assert upload_job["permissions"]["security-events"] == "write"
    uses = [s.get("uses", "") for s in upload_job["steps"]]
    assert not any(u.startswith("actions/checkout@") for u in uses)
    upload = next(s for s in upload_job["steps"] if s.get("uses", "").startswith("github/codeql"))
    assert upload["with"]["sarif_file"] == "harness.sarif"
    assert "--format sarif --output harness.sarif" in " ".join(
        commands("check").replace("\\\n", " ").split()
    )


def test_every_step_has_either_a_command_or_an_action() -> None:
    for job in workflow()["jobs"].values():
        assert all(("run" in s) != ("uses" in s) for s in job["steps"])


def test_benchmarks_run_and_are_compared_with_the_base_baseline_by_the_base_script() -> None:
    run = commands("check")
    assert "--benchmark-json ../bench.json" in run
    assert '.judge/bin/python judge/ci/compare_benchmarks.py "$BASELINE" bench.json' in run
    step = next(s for s in steps("check") if s.get("name", "").startswith("Benchmarks"))
    assert step["env"]["BASELINE"].startswith("judge/ci/baselines/")
