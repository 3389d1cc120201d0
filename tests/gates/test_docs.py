"""The docs gate checks real documents in a temporary repository against real commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.gates import GateContext
from harness.gates.doc_mentions import mentions
from harness.gates.docs import GATE

AGENTS = """# Map

- Run `harness check --fast` before committing; `make test` runs the suite.
- Code lives in `pkg/core.py`; contracts in `architecture/`.
- Train with `python -m json.tool`; NC101 flags host syncs.

```bash
harness explain NC101
```
"""


@pytest.fixture
def repo(make_repo) -> Path:
    return make_repo(
        {
            "AGENTS.md": AGENTS,
            "CLAUDE.md": "@AGENTS.md\n",
            "Makefile": "test:\n\tpytest\n\ninstall: x\n",
            "pkg/__init__.py": "",
            "pkg/core.py": "X = 1\n",
            "architecture/README.md": "Layers: see `../AGENTS.md` and `pkg/`.\n",
        }
    )


def run_gate(root: Path, **options):
    return GATE.run(GateContext(root=root, options=options))


def append(root: Path, text: str) -> None:
    path = root / "AGENTS.md"
    path.write_text(path.read_text() + text)


def rules_of(result) -> list[tuple[str, str, int]]:
    return [(f.rule, f.path, f.line) for f in result.findings]


def test_accurate_docs_pass(repo: Path) -> None:
    result = run_gate(repo)
    assert result.findings == [] and result.ok
    assert result.metrics["documents"] == 3


def test_missing_path_is_doc001_at_its_position(repo: Path) -> None:
    append(repo, "See `pkg/gone.py`.\n")
    (finding,) = run_gate(repo).findings
    assert (finding.rule, finding.path, finding.line, finding.col) == ("DOC001", "AGENTS.md", 10, 6)
    assert "`pkg/gone.py`" in finding.message


def test_git_ignored_run_outputs_are_not_missing(repo: Path) -> None:
    (repo / ".gitignore").write_text("runs/\n")
    append(repo, "Results land in `runs/results.tsv`.\n")
    assert run_gate(repo).ok


def test_unknown_harness_subcommand_and_option_are_doc002(repo: Path) -> None:
    append(repo, "Also `harness chek` and `harness check --fastest`.\n")
    messages = [f.message for f in run_gate(repo).findings]
    assert [m.split(": ", 1)[1] for m in messages] == [
        "`harness chek`: `harness` has no subcommand 'chek'",
        "`harness check --fastest`: `harness check` has no option --fastest",
    ]


def test_unknown_make_target_and_module_are_doc002(repo: Path) -> None:
    append(repo, "Run `make deploy` and `python -m no_such_module_xyz`.\n")
    assert [f.rule for f in run_gate(repo).findings] == ["DOC002", "DOC002"]


def test_repo_module_that_does_not_exist_is_doc002(repo: Path) -> None:
    append(repo, "Run `python -m pkg.train`.\n")
    (finding,) = run_gate(repo).findings
    assert "pkg.train" in finding.message


def test_unknown_rule_code_is_doc003(repo: Path) -> None:
    append(repo, "NC999 does not exist; PROT001 does.\n")
    assert rules_of(run_gate(repo)) == [("DOC003", "AGENTS.md", 10)]


def test_agents_md_over_budget_is_doc004(repo: Path) -> None:
    result = run_gate(repo, agents_max_lines=5)
    assert [f.rule for f in result.findings] == ["DOC004"]
    assert "9 lines, over its budget of 5" in result.findings[0].message


def test_claude_md_without_the_agents_include_is_doc007(repo: Path) -> None:
    (repo / "CLAUDE.md").write_text("Read the agents file.\n")
    assert rules_of(run_gate(repo)) == [("DOC007", "CLAUDE.md", 1)]


def test_missing_agents_md_is_doc007(repo: Path) -> None:
    (repo / "AGENTS.md").unlink()
    assert ("DOC007", "AGENTS.md", 1) in rules_of(run_gate(repo))


def test_spans_that_are_not_paths_are_ignored() -> None:
    text = (
        "Use `B, T, C`, `torch==2.13.*`, `~/.cache/x`, `/usr/share/doc`, `a.b.c` and `--depth`.\n"
    )
    assert mentions(text) == []


def test_commands_in_fenced_blocks_are_checked_but_paths_are_not() -> None:
    found = mentions("```\nharness check\nsome/output/path.py\n```\n")
    assert [(m.kind, m.text) for m in found] == [("harness", "harness check")]


def test_this_repository_documents_every_rule_with_golden_examples() -> None:
    root = Path(__file__).resolve().parents[2]
    result = run_gate(root)
    assert [f.message for f in result.findings if f.rule in ("DOC005", "DOC006")] == []
