"""The lint engine: one parse, batched rules, prefilters, lazy positions, options, parse errors."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from libcst.metadata import PositionProvider, QualifiedNameProvider

from harness.config import parse_settings
from harness.lint.engine import lint_source, lint_text
from harness.lint.rule import Option, Rule
from harness.lint.runner import lint_paths
from rules.mutable_default_argument import MutableDefaultArgument


class PrintCall(Rule):
    code = "XT001"
    name = "print-call"
    message = "print() called in {function}"
    fix_title = "Use logging"
    prefilter = ("print(",)

    def __init__(self, context):
        super().__init__(context)
        self.function = "<module>"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.function = node.name.value

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "print":
            self.report(node, function=self.function)


class TooManyArgs(Rule):
    code = "XT002"
    name = "too-many-args"
    severity = "warning"
    message = "{function}() takes {count} parameters, more than {limit}"
    fix_title = "Group the parameters into a dataclass"
    options = {"max_args": Option(3, "most parameters a function may take", int)}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        count = len(node.params.params)
        limit = self.option("max_args")
        if count > limit:
            self.report(node.name, function=node.name.value, count=count, limit=limit)


class VisitCounter(Rule):
    """Counts the Module nodes it sees, to prove one traversal per rule per file."""

    code = "XT003"
    name = "visit-counter"
    message = "seen"
    seen: list[str] = []

    def visit_Module(self, node: cst.Module) -> None:
        VisitCounter.seen.append(self.context.path)


def test_all_rules_run_in_one_pass_and_report_positions():
    source = "def f(a=[]):\n    print(a)\n"
    findings = lint_source("m.py", source, [PrintCall, MutableDefaultArgument])
    assert [(f.rule, f.line, f.col, f.end_line, f.end_col) for f in findings] == [
        ("NC205", 1, 9, 1, 11),
        ("XT001", 2, 5, 2, 13),
    ]
    assert findings[1].message == "print() called in f"


def test_columns_count_code_points_not_bytes():
    source = 'x = "é😀"; print(x)\n'
    (finding,) = lint_source("m.py", source, [PrintCall])
    assert finding.col == source.index("print") + 1 == 11


def test_prefilter_skips_parsing_when_no_rule_can_fire():
    outcome = lint_text("m.py", "x = 1\n", [PrintCall])
    assert outcome.parsed is False and outcome.findings == []
    assert lint_text("m.py", "print(1)\n", [PrintCall]).parsed is True


def test_prefilter_may_be_a_regular_expression():
    import re

    class PrintInDef(PrintCall):
        code = "XT005"
        prefilter = (re.compile(r"^\s+print\(", re.MULTILINE),)

    assert lint_text("m.py", "print(1)\n", [PrintInDef]).parsed is False
    assert lint_text("m.py", "def f():\n    print(1)\n", [PrintInDef]).findings


def test_each_file_is_traversed_once_per_rule():
    VisitCounter.seen = []
    lint_source("one.py", "x = 1\n", [VisitCounter, PrintCall, MutableDefaultArgument])
    assert VisitCounter.seen == ["one.py"]


def test_rule_include_and_exclude_globs_decide_where_it_runs():
    class OnlyNanochat(PrintCall):
        code = "XT004"
        include = ("nanochat/*.py",)
        exclude = ("nanochat/config.py",)

    assert lint_source("nanochat/train.py", "print(1)\n", [OnlyNanochat])
    assert not lint_source("nanochat/config.py", "print(1)\n", [OnlyNanochat])
    assert not lint_source("tests/test_x.py", "print(1)\n", [OnlyNanochat])


def test_syntax_error_becomes_hc001_at_its_position():
    source = "print(1)\ndef f(:\n"
    (finding,) = lint_source("bad.py", source, [PrintCall, MutableDefaultArgument])
    assert (finding.rule, finding.line, finding.severity) == ("HC001", 2, "error")
    assert finding.message.startswith("cannot parse:")


def test_configured_option_reaches_the_rule(tmp_path: Path):
    (tmp_path / "m.py").write_text("def f(a, b):\n    return a\n", encoding="utf-8")
    default = lint_paths(tmp_path, parse_settings({}, tmp_path), rules=[TooManyArgs])
    strict_table = {"rules": {"XT002": {"max_args": 1}}}
    strict = lint_paths(tmp_path, parse_settings(strict_table, tmp_path), rules=[TooManyArgs])
    assert default.findings == []
    assert [f.message for f in strict.findings] == ["f() takes 2 parameters, more than 1"]


def test_severity_override_and_disabled_rule_apply(tmp_path: Path):
    (tmp_path / "m.py").write_text("def f(a=[]):\n    print(a)\n", encoding="utf-8")
    table = {"rules": {"NC205": {"severity": "warning"}, "XT001": {"enabled": False}}}
    run = lint_paths(
        tmp_path, parse_settings(table, tmp_path), rules=[PrintCall, MutableDefaultArgument]
    )
    assert [(f.rule, f.severity) for f in run.findings] == [("NC205", "warning")]


def test_per_file_ignores_drop_codes_for_matching_paths(tmp_path: Path):
    for name in ("scripts/run.py", "lib.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("print(1)\n", encoding="utf-8")
    table = {"per-file-ignores": {"scripts/*": ["XT001"]}}
    run = lint_paths(tmp_path, parse_settings(table, tmp_path), rules=[PrintCall])
    assert [f.path for f in run.findings] == ["lib.py"]


def test_fingerprint_survives_unrelated_edits_and_numbers_repeats():
    before = lint_source("m.py", "print(1)\nprint(1)\n", [PrintCall])
    after = lint_source("m.py", "import os\n\n\nprint(1)\n    \nprint(1)\n", [PrintCall])
    assert [f.fingerprint for f in before] == [f.fingerprint for f in after]
    assert before[0].fingerprint != before[1].fingerprint


def test_many_files_are_linted_in_a_process_pool_with_the_same_result(tmp_path: Path):
    for i in range(40):
        (tmp_path / f"m{i:02}.py").write_text(f"def f{i}(a=[]):\n    print(a)\n", encoding="utf-8")
    rules = [PrintCall, MutableDefaultArgument]
    pooled = lint_paths(
        tmp_path, parse_settings({"pool-threshold": 8}, tmp_path), rules=rules, use_cache=False
    )
    serial = lint_paths(
        tmp_path, parse_settings({"pool-threshold": 1000}, tmp_path), rules=rules, use_cache=False
    )
    assert pooled.workers >= 2 and serial.workers == 0
    assert pooled.findings == serial.findings and len(pooled.findings) == 80


def test_excluded_globs_are_not_linted_even_when_named(tmp_path: Path):
    (tmp_path / "golden" / "NC205").mkdir(parents=True)
    (tmp_path / "golden" / "NC205" / "bad.py").write_text("print(1)\n", encoding="utf-8")
    settings = parse_settings({"exclude": ["golden/**"]}, tmp_path)
    assert lint_paths(tmp_path, settings, rules=[PrintCall]).findings == []
    assert lint_paths(tmp_path, settings, ["golden/NC205/bad.py"], rules=[PrintCall]).findings == []


class QualifiedCall(Rule):
    """Uses scope metadata: only rules that declare a provider pay for it."""

    code = "XT006"
    name = "qualified-call"
    message = "call to {name}"
    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def visit_Call(self, node: cst.Call) -> None:
        names = self.get_metadata(QualifiedNameProvider, node.func, set())
        line = self.get_metadata(PositionProvider, node).start.line
        for qualified in names:
            if qualified.name == "torch.load":
                self.report(node, name=f"{qualified.name} on line {line}")


def test_declared_metadata_is_resolved_for_the_rule_that_asks():
    source = "import torch as t\n\nt.load('x')\n"
    (finding,) = lint_source("m.py", source, [QualifiedCall, PrintCall])
    assert finding.message == "call to torch.load on line 3"
    assert (finding.line, finding.col) == (3, 1)


def test_a_rules_exempt_paths_skip_the_file_before_any_parse():
    from rules.hyperparameter_literal import HyperparameterLiteral

    source = "LR = 3e-4\nopt = torch.optim.AdamW(params, lr=3e-4)\n"
    exempt = lint_text("nanochat/config.py", source, [HyperparameterLiteral])
    assert exempt.findings == [] and exempt.parsed is False
    moved = {"NC301": {"config_paths": ["conf/*.py"]}}
    checked = lint_text("nanochat/config.py", source, [HyperparameterLiteral], moved)
    assert checked.parsed is True and {f.rule for f in checked.findings} == {"NC301"}
