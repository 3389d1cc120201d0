"""The [tool.harness.research] table: defaults, overrides, one-line errors with the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import ConfigError
from harness.research.settings import (
    DEFAULT_KNOBS,
    DEFAULT_SURFACE,
    Knob,
    Objective,
    load_research_settings,
)


def _write(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f"[project]\nname = 'x'\n\n[tool.harness.research]\n{table}\n"
    )
    return tmp_path


def test_defaults_fit_nanochat(tmp_path: Path) -> None:
    settings = load_research_settings(tmp_path)
    assert settings.surface == DEFAULT_SURFACE
    assert settings.knobs == DEFAULT_KNOBS
    assert settings.objective == Objective("val_bpb", "min", "")
    assert settings.timeout_s == 300.0 * 2.0 + 120.0


def test_overrides_are_read(tmp_path: Path) -> None:
    root = _write(tmp_path, (
        'budget-s = 20\nnum-steps = 40\ntrain-args = ["--depth", "2"]\nconfirm = false\n'
        '[tool.harness.research.objective]\nkey = "tok_per_sec"\ndirection = "max"\ncommand = "python bench.py"\n'
        '[[tool.harness.research.knobs]]\nfield = "matrix_lr"\nmin = 0.001\nmax = 0.1\n'
    ))  # fmt: skip
    settings = load_research_settings(root)
    assert (settings.budget_s, settings.num_steps, settings.train_args, settings.confirm) == (
        20.0, 40, ("--depth", "2"), False,
    )  # fmt: skip
    assert settings.objective == Objective("tok_per_sec", "max", "python bench.py")
    assert settings.knobs == (Knob("matrix_lr", "log", 0.001, 0.1),)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "budget-s = 'fast'",
            r"pyproject.toml:5: \[tool.harness.research\] budget-s: expected a number, got 'fast'",
        ),
        (
            "seeds = 0",
            r"pyproject.toml:5: \[tool.harness.research\] seeds: expected a positive number, got 0",
        ),
        ("bogus = 1", r"pyproject.toml:5: \[tool.harness.research\] bogus: unknown key"),
        ("confirm = 1", r"confirm: expected true or false, got 1"),
        (
            "[tool.harness.research.objective]\ndirection = 'down'",
            r"direction: expected min or max, got 'down'",
        ),
        (
            "[[tool.harness.research.knobs]]\nfield = 'matrix_lr'\nmin = 0",
            r"knob matrix_lr: a log knob needs min > 0",
        ),
    ],
)
def test_bad_values_are_one_line_errors(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_research_settings(_write(tmp_path, table))
