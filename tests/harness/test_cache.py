"""The content-hash cache: warm runs skip parsing, keys change with config, corruption is repaired."""

from __future__ import annotations

from pathlib import Path

from harness.config import parse_settings
from harness.lint.runner import lint_paths
from rules.mutable_default_argument import MutableDefaultArgument

RULES = [MutableDefaultArgument]


def setup_files(root: Path, count: int = 3) -> None:
    for i in range(count):
        (root / f"m{i}.py").write_text(f"def f{i}(a=[]):\n    return a\n", encoding="utf-8")


def test_second_run_reads_every_file_from_the_cache(tmp_path: Path):
    setup_files(tmp_path)
    settings = parse_settings({}, tmp_path)
    cold = lint_paths(tmp_path, settings, rules=RULES)
    warm = lint_paths(tmp_path, settings, rules=RULES)
    assert (cold.parsed, cold.cached) == (3, 0)
    assert (warm.parsed, warm.cached) == (0, 3)
    assert warm.findings == cold.findings


def test_editing_one_file_reparses_only_that_file(tmp_path: Path):
    setup_files(tmp_path)
    settings = parse_settings({}, tmp_path)
    lint_paths(tmp_path, settings, rules=RULES)
    (tmp_path / "m1.py").write_text("def g(a=None):\n    b = [a]\n    return b\n", encoding="utf-8")
    run = lint_paths(tmp_path, settings, rules=RULES)
    assert (run.parsed, run.cached) == (1, 2)
    assert [f.path for f in run.findings] == ["m0.py", "m2.py"]


def test_changing_the_config_starts_a_fresh_cache(tmp_path: Path):
    setup_files(tmp_path, 1)
    lint_paths(tmp_path, parse_settings({}, tmp_path), rules=RULES)
    changed = parse_settings({"rules": {"NC205": {"severity": "warning"}}}, tmp_path)
    run = lint_paths(tmp_path, changed, rules=RULES)
    assert run.cached == 0 and [f.severity for f in run.findings] == ["warning"]
    assert len(list((tmp_path / ".harness_cache" / "lint").iterdir())) == 1


def test_declaring_a_dependency_in_pyproject_relints_its_imports(tmp_path: Path):
    from rules.undeclared_dependency import UndeclaredDependency

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "p"\ndependencies = []\n', encoding="utf-8")
    (tmp_path / "m.py").write_text("import yaml\n", encoding="utf-8")
    settings = parse_settings({}, tmp_path)
    before = lint_paths(tmp_path, settings, rules=[UndeclaredDependency])
    pyproject.write_text('[project]\nname = "p"\ndependencies = ["pyyaml"]\n', encoding="utf-8")
    after = lint_paths(tmp_path, settings, rules=[UndeclaredDependency])
    assert [f.rule for f in before.findings] == ["NC302"]
    assert (after.cached, after.findings) == (0, [])


def test_corrupted_cache_entries_are_discarded_and_rebuilt(tmp_path: Path):
    setup_files(tmp_path)
    settings = parse_settings({}, tmp_path)
    cold = lint_paths(tmp_path, settings, rules=RULES)
    entries = sorted((tmp_path / ".harness_cache").rglob("*.json"))
    assert len(entries) == 3
    entries[0].write_text('{"path": "m0.py", "hash": ', encoding="utf-8")
    entries[1].write_bytes(b"\xff\xfe garbage")
    repaired = lint_paths(tmp_path, settings, rules=RULES)
    assert (repaired.parsed, repaired.cached, repaired.discarded) == (2, 1, 2)
    assert repaired.findings == cold.findings
    assert lint_paths(tmp_path, settings, rules=RULES).cached == 3


def test_cache_directory_ignores_itself_for_git(tmp_path: Path):
    setup_files(tmp_path, 1)
    lint_paths(tmp_path, parse_settings({}, tmp_path), rules=RULES)
    assert (tmp_path / ".harness_cache" / ".gitignore").read_text(encoding="utf-8").endswith("*\n")


def test_disabling_the_cache_parses_every_time(tmp_path: Path):
    setup_files(tmp_path, 2)
    settings = parse_settings({}, tmp_path)
    lint_paths(tmp_path, settings, rules=RULES, use_cache=False)
    assert lint_paths(tmp_path, settings, rules=RULES, use_cache=False).parsed == 2
    assert not (tmp_path / ".harness_cache").exists()


def test_whole_repository_run_drops_entries_for_old_contents(tmp_path: Path):
    setup_files(tmp_path, 2)
    settings = parse_settings({}, tmp_path)
    lint_paths(tmp_path, settings, rules=RULES)
    (tmp_path / "m0.py").write_text("def f(a={}):\n    return a\n", encoding="utf-8")
    lint_paths(tmp_path, settings, ["m0.py"], rules=RULES)
    assert len(list((tmp_path / ".harness_cache").rglob("*.json"))) == 3
    lint_paths(tmp_path, settings, rules=RULES)
    assert len(list((tmp_path / ".harness_cache").rglob("*.json"))) == 2
