"""The ``harness`` CLI through click's CliRunner: exit codes and exact lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main

MUTABLE = "def f(a=[]):\n    return a\n"
MUTABLE_LINE = "m.py:1:9: NC205 parameter 'a' of f() defaults to a mutable list [fix: Default to None and create the object inside the function]"
UNUSED = "def f(a=None):  # harness: ignore[NC205] was a list once\n    return a\n"
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_clean_repository_exits_zero_with_a_summary_line(cli, write):
    write({"m.py": "x = 1\n"})
    result = cli("check", "--gate", "rules")
    assert result.exit_code == 0
    assert result.output == "checked rules (ok): no findings\n"


def test_finding_exits_one_and_prints_location_message_and_fix(cli, write):
    write({"m.py": MUTABLE})
    result = cli("check", "--gate", "rules")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        MUTABLE_LINE,
        "checked rules (failed): 1 finding (1 error)",
    ]


def test_unknown_gate_is_a_usage_error_on_one_line(cli):
    result = cli("check", "--gate", "lint")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --gate lint: unknown gate; gates are format, ruff, rules, protected, architecture, "
        "test-integrity, docs, tests, smoke-train, metrics, bench"
    ]


def test_bad_config_exits_two_naming_file_and_key(cli, write):
    write({"pyproject.toml": "[tool.harness.rules.NC999]\nseverity = 'info'\n", "m.py": MUTABLE})
    result = cli("check", "--gate", "rules")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: pyproject.toml: [tool.harness.rules.NC999] unknown rule code; "
        "run `harness rules` to list the codes\n"
    )


def test_explicit_paths_limit_the_check(cli, write):
    write({"m.py": MUTABLE, "pkg/other.py": MUTABLE})
    result = cli("check", "--gate", "rules", "m.py")
    assert result.output.splitlines()[0] == MUTABLE_LINE
    assert "pkg/other.py" not in result.output
    assert cli("check", "--gate", "rules", "pkg").output.startswith("pkg/other.py:1:9: NC205")


def test_path_outside_the_repository_is_a_usage_error(cli, tmp_path):
    result = cli("check", "--gate", "rules", str(tmp_path / "elsewhere.py"))
    assert result.exit_code == 2 and "outside the repository" in result.stderr


def test_changed_checks_only_modified_and_untracked_files(cli, write, commit):
    write({"old.py": MUTABLE, "edited.py": "x = 1\n"})
    commit()
    write({"edited.py": MUTABLE, "new.py": MUTABLE})
    result = cli("check", "--gate", "rules", "--changed")
    assert sorted(line.split(":")[0] for line in result.output.splitlines()[:-2]) == [
        "edited.py",
        "new.py",
    ]


def test_changed_with_folder_or_dot_paths_narrows_to_them(cli, write, commit):
    write({"a/old.py": "x = 1\n", "b/old.py": "x = 1\n"})
    commit()
    write({"a/new.py": MUTABLE, "b/new.py": MUTABLE})
    only_a = cli("check", "--gate", "rules", "--changed", "a")
    assert [line.split(":")[0] for line in only_a.output.splitlines()[:-1]] == ["a/new.py"]
    everything = cli("check", "--gate", "rules", "--changed", ".")
    assert [line.split(":")[0] for line in everything.output.splitlines()[:-2]] == [
        "a/new.py",
        "b/new.py",
    ]


def test_base_ref_compares_against_that_commit(cli, write, commit, repo):
    write({"a.py": "x = 1\n"})
    commit("first")
    write({"b.py": MUTABLE})
    commit("second")
    result = cli("check", "--gate", "rules", "--base", "HEAD~1")
    assert result.exit_code == 1 and result.output.startswith("b.py:1:9: NC205")
    assert cli("check", "--gate", "rules", "--base", "HEAD").exit_code == 0


def test_unknown_base_ref_is_a_one_line_error(cli, write, commit):
    write({"a.py": "x = 1\n"})
    commit()
    result = cli("check", "--gate", "rules", "--base", "no-such-branch")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "error: git ref 'no-such-branch' not found; pass an existing branch, tag or commit\n"
    )


def test_fast_runs_the_fast_gates_on_changed_files_only(cli, write, commit):
    write({"old.py": MUTABLE})
    commit()
    write({"new.py": MUTABLE})
    result = cli("check", "--fast", "--format", "json")
    report = json.loads(result.output)
    assert [g["id"] for g in report["gates"]] == ["format", "ruff", "rules", "protected"]
    rules_gate = report["gates"][2]
    assert [(f["rule"], f["path"]) for f in rules_gate["findings"]] == [("NC205", "new.py")]


def test_fast_with_file_names_checks_exactly_those_files(cli, write, commit):
    write({"old.py": MUTABLE, "other.py": MUTABLE})
    commit()
    result = cli("check", "--fast", "--format", "json", "old.py")
    rules_gate = json.loads(result.output)["gates"][2]
    assert [f["path"] for f in rules_gate["findings"]] == ["old.py"]


def test_changed_with_nothing_changed_is_clean(cli, write, commit):
    write({"old.py": MUTABLE})
    commit()
    result = cli("check", "--gate", "rules", "--changed")
    assert result.exit_code == 0
    assert result.output == (
        "note: no file was checked: nothing changed against HEAD\nchecked rules (ok): no findings\n"
    )


def test_output_and_json_output_files_are_written(cli, write, repo):
    write({"m.py": MUTABLE})
    result = cli(
        "check",
        "--gate",
        "rules",
        "--format",
        "jsonl",
        "--output",
        "out.jsonl",
        "--json-output",
        "r.json",
    )
    assert result.exit_code == 1 and result.output == ""
    assert json.loads((repo / "out.jsonl").read_text())["rule"] == "NC205"
    assert json.loads((repo / "r.json").read_text())["ok"] is False


def test_severity_flag_lowers_the_failing_level(cli, write):
    write({"m.py": UNUSED})
    assert cli("check", "--gate", "rules").exit_code == 0
    assert cli("check", "--gate", "rules", "--severity", "warning").exit_code == 1


def test_fix_applies_safe_fixes_and_exits_zero_when_none_remain(cli, write, repo):
    write({"m.py": UNUSED})
    result = cli("check", "--gate", "rules", "--fix", "--severity", "warning")
    assert result.exit_code == 0
    assert (repo / "m.py").read_text() == "def f(a=None):\n    return a\n"


def test_fix_exits_one_while_unfixable_findings_remain(cli, write):
    write({"m.py": MUTABLE + UNUSED.replace("def f", "def g")})
    result = cli("check", "--gate", "rules", "--fix", "--severity", "warning")
    assert result.exit_code == 1
    assert result.output.splitlines()[0].split(" ")[1] == "NC205"
    assert result.output.splitlines()[1] == "fixed m.py: HC003"


def test_github_format_writes_the_step_summary(cli, write, repo, monkeypatch):
    summary = repo / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write({"m.py": MUTABLE})
    result = cli("check", "--gate", "rules", "--format", "github")
    assert result.output.startswith(
        "::error file=m.py,line=1,col=9,endLine=1,endColumn=11,title=NC205::"
    )
    assert summary.read_text().startswith("## harness check failed")


@pytest.fixture
def in_repo_root(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    return CliRunner()


def test_explain_prints_the_rule_docs_and_golden_examples(in_repo_root):
    result = in_repo_root.invoke(main, ["explain", "nc205"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "NC205 mutable-default-argument (error, no fix)"
    for heading in ("What it does:", "Why is this bad?", "Example:", "Use instead:", "Fix safety:"):
        assert heading in lines
    if (REPO_ROOT / "golden" / "NC205").is_dir():
        assert any(line.startswith("Golden bad example (golden/NC205/") for line in lines)


def test_explain_json_has_sections_and_options(in_repo_root):
    data = json.loads(in_repo_root.invoke(main, ["explain", "NC205", "--format", "json"]).output)
    assert data["code"] == "NC205" and "Why is this bad?" in data["sections"]
    assert isinstance(data["options"], list)


def test_explain_a_gate_code_prints_its_text(in_repo_root):
    result = in_repo_root.invoke(main, ["explain", "HC003"])
    assert result.output.splitlines()[0] == "HC003 (gate rules, warning)"


def test_explain_unknown_code_exits_two(in_repo_root):
    result = in_repo_root.invoke(main, ["explain", "NC999"])
    assert result.exit_code == 2
    assert (
        result.stderr == "error: unknown code 'NC999'; run `harness rules` to list the rule codes\n"
    )


def test_rules_lists_codes_in_text_json_and_markdown(in_repo_root):
    text = in_repo_root.invoke(main, ["rules"]).output.splitlines()
    assert text[0].split() == ["code", "name", "severity", "fix", "summary"]
    assert any(line.startswith("NC205   mutable-default-argument") for line in text)
    entries = json.loads(in_repo_root.invoke(main, ["rules", "--format", "json"]).output)
    assert {
        "code": "NC205",
        "name": "mutable-default-argument",
        "severity": "error",
    }.items() <= entries[[e["code"] for e in entries].index("NC205")].items()
    assert (
        "| NC205 | mutable-default-argument |"
        in in_repo_root.invoke(main, ["rules", "--format", "markdown"]).output
    )


def test_protect_approve_without_a_manifest_is_a_one_line_error(cli):
    result = cli("protect", "approve", "--reason", "new eval")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: architecture/protected.toml: missing;")
    assert len(result.stderr.splitlines()) == 1


def test_protect_approve_records_the_sealed_files(cli, write):
    write(
        {"architecture/protected.toml": 'sealed = ["sealed/*.py"]\n', "sealed/eval.py": "x = 1\n"}
    )
    result = cli("protect", "approve", "--reason", "first seal", "--who", "tester")
    assert result.exit_code == 0
    assert "approved sealed/eval.py" in result.output.splitlines()


WARM_RUN = """
import sys
from pathlib import Path
from harness.check import CheckRequest, run_check
report = run_check(Path.cwd(), CheckRequest(gates=("rules",)), cwd=Path.cwd())
print(report.gates[0].metrics["cached"], *sorted(m for m in ("libcst", "rules", "torch") if m in sys.modules))
"""


def test_warm_check_imports_neither_libcst_nor_rules_nor_torch(repo, write):
    import subprocess
    import sys

    write({"m.py": MUTABLE, "n.py": "x = 1\n"})
    run = lambda: subprocess.run(
        [sys.executable, "-c", WARM_RUN], cwd=repo, capture_output=True, text=True
    )  # noqa: E731
    cold = run()
    assert cold.stdout.split() == ["0", "libcst", "rules"], cold.stderr
    assert run().stdout.split() == ["2"]


def test_every_code_is_declared_once_across_the_gates_and_the_engine():
    from harness.gates import load_gate
    from harness.lint.codes import ENGINE_CODES
    from harness.registry import GATE_IDS

    declared = [c.code for g in GATE_IDS for c in load_gate(g).codes]
    declared += [c for c in ENGINE_CODES if c not in {c.code for c in load_gate("rules").codes}]
    assert len(declared) == len(set(declared)), sorted(c for c in declared if declared.count(c) > 1)


def test_paths_through_a_symlinked_folder_are_inside_the_repository(cli, write, repo, tmp_path):
    write({"m.py": MUTABLE})
    alias = tmp_path / "alias"
    alias.symlink_to(repo)
    result = cli("check", "--gate", "rules", str(alias / "m.py"))
    assert result.exit_code == 1 and result.output.startswith("m.py:1:9: NC205")


def test_python_dash_m_harness_runs_the_cli(repo):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "harness", "explain", "HC002"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.startswith("HC002 (gate rules, error)")


def test_an_output_folder_that_does_not_exist_is_one_line_exit_two(cli, write):
    write({"m.py": "x = 1\n"})
    result = cli("check", "--gate", "rules", "--output", "/missing/dir/x.sarif")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --output /missing/dir/x.sarif: folder /missing/dir does not exist; create it first\n"
    )


def test_a_path_that_does_not_exist_is_one_line_exit_two(cli, write):
    write({"m.py": "x = 1\n"})
    result = cli("check", "--gate", "rules", "gone.py")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: gone.py: no such file or folder; pass paths that exist\n",
    )


def test_an_unknown_format_is_one_line_exit_two(cli):
    result = cli("check", "--format", "xml")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: Invalid value for '--format': 'xml' is not one of 'text', 'json', 'jsonl', "
        "'sarif', 'github', 'junit', 'markdown'; run `main check --help`"
    ]


def test_fix_says_what_it_fixed_per_file_and_rule(cli, write):
    write({"m.py": "import os\nimport sys\n\nx = 1\n"})
    result = cli("check", "--gate", "ruff", "--fix")
    assert result.exit_code == 0
    assert result.output.splitlines() == ["fixed m.py: F401 x2", "checked ruff (ok): no findings"]


def test_text_ends_with_a_count_per_code(cli, write):
    write({"m.py": MUTABLE, "n.py": MUTABLE + "import os\n"})
    result = cli("check", "--gate", "rules", "--gate", "ruff")
    assert result.output.splitlines()[-2] == "by code: NC205 2, F401 1"


def test_fast_with_nothing_changed_says_no_file_was_checked(cli, write, commit):
    write({"m.py": "x = 1\n"})
    commit()
    result = cli("check", "--fast", "--gate", "rules")
    assert result.output.splitlines() == [
        "note: no file was checked: nothing changed against HEAD",
        "checked rules (ok): no findings",
    ]


def test_one_site_one_concept_names_the_other_codes(cli, write):
    write({"m.py": "try:\n    x = 1\nexcept:\n    pass\n"})
    result = cli("check", "--gate", "ruff", "--gate", "rules")
    lines = [line for line in result.output.splitlines() if line.startswith("m.py")]
    assert len(lines) == 1 and lines[0].startswith("m.py:3:1: NC203 bare `except:`")
    assert "(same site: E722" in lines[0]


def test_one_syntax_error_is_one_finding(cli, write):
    write({"m.py": "def f(:\n    pass\n"})
    result = cli("check", "--gate", "format", "--gate", "ruff", "--gate", "rules")
    lines = [line for line in result.output.splitlines() if line.startswith("m.py")]
    assert len(lines) == 1 and " HC001 cannot parse" in lines[0]
    assert "same site: E999, FMT002" in lines[0]


def test_rules_lists_one_sentence_per_rule(in_repo_root):
    for line in in_repo_root.invoke(main, ["rules"]).output.splitlines()[1:]:
        summary = line.split(None, 4)[4]
        assert summary.endswith(".") and ". " not in summary and len(summary) <= 100, line


def test_bench_step_reports_json_with_the_documented_figures(cli):
    result = cli(
        "bench", "step", "--depth", "2", "--sequence-len", "32", "--device-batch-size", "2",
        "--rounds", "2", "--steps-per-round", "1", "--warmup-steps", "1", "--data", "synthetic",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["mfu_percent"] is None and data["ms_per_step"]["median"] > 0
    assert len(data["rounds_ms_per_step"]) == 2


def test_bench_ttt_with_an_unknown_preset_is_one_line_exit_two(cli):
    result = cli("bench", "ttt", "--preset", "gpt5", "--dry-run")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown preset 'gpt5'; use one of ")
    assert len(result.stderr.splitlines()) == 1
