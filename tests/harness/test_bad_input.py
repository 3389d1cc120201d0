"""Bad input never raises: syntax errors, bad bytes, huge files, symlinks, odd paths, random text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.config import parse_settings
from harness.lint.engine import lint_source
from harness.lint.runner import lint_paths
from rules import all_rules
from rules.mutable_default_argument import MutableDefaultArgument

CATALOGUE = all_rules()
KNOWN = {r.code for r in CATALOGUE}


def lint_dir(
    root: Path, paths: list[str] | None = None, **table
) -> list[tuple[str, str, int, str]]:
    run = lint_paths(
        root, parse_settings(table, root), paths, rules=[MutableDefaultArgument], use_cache=False
    )
    return [(f.rule, f.path, f.line, f.message) for f in run.findings]


def test_syntax_error_is_hc001(tmp_path: Path):
    (tmp_path / "bad.py").write_text("x = [1]\ny = = 2\n", encoding="utf-8")
    ((rule, path, line, message),) = lint_dir(tmp_path)
    assert (rule, path, line) == ("HC001", "bad.py", 2) and message.startswith("cannot parse:")


def test_non_utf8_bytes_are_hc005_with_the_line(tmp_path: Path):
    (tmp_path / "latin.py").write_bytes(b"x = 1\ny = '\xe9'\n")
    assert lint_dir(tmp_path) == [
        ("HC005", "latin.py", 2, "cannot lint latin.py: not valid utf-8 (byte 11)")
    ]


def test_declared_encoding_is_honoured(tmp_path: Path):
    (tmp_path / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\ndef f(a=['\xe9']):\n    pass\n"
    )
    assert [r[0] for r in lint_dir(tmp_path)] == ["NC205"]


def test_nul_bytes_are_hc005(tmp_path: Path):
    (tmp_path / "nul.py").write_bytes(b"x = 1\n\x00\n")
    assert lint_dir(tmp_path) == [("HC005", "nul.py", 2, "cannot lint nul.py: contains NUL bytes")]


def test_file_over_the_size_budget_is_hc005_and_not_read(tmp_path: Path):
    (tmp_path / "huge.py").write_text("x = 1\n" * 200_000, encoding="utf-8")
    assert lint_dir(tmp_path, **{"max-file-mb": 1}) == [
        ("HC005", "huge.py", 1, "cannot lint huge.py: 1.2 MB is over the 1 MB budget")
    ]


def test_symlink_out_of_the_repository_is_hc005(tmp_path: Path):
    outside = tmp_path / "outside.py"
    outside.write_text("def f(a=[]):\n    pass\n", encoding="utf-8")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "link.py").symlink_to(outside)
    assert lint_dir(root, ["link.py"]) == [
        ("HC005", "link.py", 1, "cannot lint link.py: symlink points outside the repository")
    ]


def test_symlink_loop_and_dangling_link_are_hc005(tmp_path: Path):
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")
    findings = lint_dir(tmp_path, ["a.py", "gone.py"])
    assert [(r, p) for r, p, _, _ in findings] == [("HC005", "a.py"), ("HC005", "gone.py")]


def test_symlinked_folder_loop_does_not_hang_the_walk(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path)
    (tmp_path / "pkg" / "m.py").write_text("def f(a=[]):\n    pass\n", encoding="utf-8")
    assert [(r, p) for r, p, _, _ in lint_dir(tmp_path)] == [("NC205", "pkg/m.py")]


def test_symlink_inside_the_repository_is_followed(tmp_path: Path):
    (tmp_path / "real.py").write_text("def f(a=[]):\n    pass\n", encoding="utf-8")
    (tmp_path / "alias.py").symlink_to(tmp_path / "real.py")
    assert [(r, p) for r, p, _, _ in lint_dir(tmp_path, ["alias.py"])] == [("NC205", "alias.py")]


def test_folder_named_like_a_module_and_missing_path_are_hc005(tmp_path: Path):
    (tmp_path / "weird.py").mkdir()
    findings = lint_dir(tmp_path, ["weird.py/", "missing.py"])
    assert findings == [
        ("HC005", "missing.py", 1, "cannot lint missing.py: no such file"),
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_hc005(tmp_path: Path):
    target = tmp_path / "secret.py"
    target.write_text("x = 1\n", encoding="utf-8")
    target.chmod(0)
    assert [r[0] for r in lint_dir(tmp_path)] == ["HC005"]


def test_unreadable_special_file_is_hc005(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe.py")
    assert lint_dir(tmp_path, ["pipe.py"]) == [
        ("HC005", "pipe.py", 1, "cannot lint pipe.py: not a regular file")
    ]


PYTHONISH = st.lists(
    st.sampled_from(
        [
            "def f(a=[], *, b={}):",
            "    return a",
            "class M(nn.Module):",
            "    def forward(self, x):",
            "        return x.to('cuda')",
            "for step in range(10):",
            "    loss.item()",
            "    opt = torch.optim.AdamW(p)",
            "torch.load(path)",
            "try:",
            "    pass",
            "except Exception:",
            "    pass",
            "x = torch.zeros(3).cuda()",
            "import random",
            "random.random()",
            "# harness: ignore[NC205]",
            "lr = 3e-4",
            "@decorator",
            "    ...",
            "if __name__ == '__main__':",
            "print(loss)",
            "with open(p) as fh:",
            "lambda x=[]: x",
            '"""doc"""',
        ]
    ),
    max_size=20,
).map(lambda lines: "\n".join(lines) + "\n")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.one_of(PYTHONISH, st.text(max_size=200)),
    path=st.sampled_from(["nanochat/train.py", "m.py", "nanochat/model.py"]),
)
def test_every_rule_survives_generated_sources(source: str, path: str):
    findings = lint_source(path, source, CATALOGUE, known_codes=KNOWN)
    lines = source.splitlines() or [""]
    for f in findings:
        assert f.line >= 1 and f.col >= 1 and f.rule
        assert f.line <= len(lines) + 1


def test_non_python_paths_are_skipped_but_missing_ones_reported(tmp_path: Path):
    (tmp_path / "notes.md").write_text("def f(a=[]): pass\n", encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data_link").symlink_to(tmp_path / "data")
    assert lint_dir(tmp_path, ["notes.md", "data_link"]) == []
    assert [r[0] for r in lint_dir(tmp_path, ["typo"])] == ["HC005"]
