"""Rule options change the verdict the documented way, and bad option values are rejected."""

from __future__ import annotations

import pytest

from harness.lint.engine import lint_source
from rules import all_rules, rule_by_code

LONG_FUNCTION = "def f():\n" + "".join(f"    x{i} = {i}\n" for i in range(12))
DEEP_FUNCTION = (
    "def f(a):\n    if a:\n        for b in a:\n            while b:\n                b -= 1\n"
)


def codes(path: str, source: str, options: dict | None = None) -> list[str]:
    return [f.rule for f in lint_source(path, source, all_rules(), options)]


def test_function_length_budget_is_an_option() -> None:
    assert "NC505" not in codes("harness/x.py", LONG_FUNCTION)
    assert "NC505" in codes("harness/x.py", LONG_FUNCTION, {"NC505": {"max_statements": 10}})


def test_nesting_budget_is_an_option() -> None:
    assert "NC506" not in codes("harness/x.py", DEEP_FUNCTION)
    assert "NC506" in codes("harness/x.py", DEEP_FUNCTION, {"NC506": {"max_depth": 2}})


def test_allowed_device_paths_option_widens_where_devices_may_be_named() -> None:
    source = 'DEVICE = "cuda"\n'
    assert "NC104" in codes("nanochat/launch.py", source)
    assert "NC104" not in codes(
        "nanochat/launch.py", source, {"NC104": {"allowed_paths": ["nanochat/launch.py"]}}
    )


def test_allowed_environment_variables_option_is_honoured() -> None:
    source = 'import os\nRUN = os.environ.get("RUN_ID")\n'
    assert "NC303" in codes("nanochat/train.py", source)
    assert "NC303" not in codes(
        "nanochat/train.py", source, {"NC303": {"allowed_vars": ["RUN_ID"]}}
    )


def test_extra_allowed_imports_option_accepts_an_undeclared_package() -> None:
    source = "import einops\n"
    assert "NC302" in codes("nanochat/model.py", source)
    assert "NC302" not in codes(
        "nanochat/model.py", source, {"NC302": {"extra_allowed": ["einops"]}}
    )


@pytest.mark.parametrize(
    ("code", "name", "value"),
    [
        ("NC505", "max_statements", "60"),
        ("NC506", "max_depth", True),
        ("NC104", "allowed_paths", "x"),
    ],
)
def test_option_with_the_wrong_type_is_rejected_with_a_message_naming_it(code, name, value) -> None:
    error = rule_by_code(code).options[name].validate(name, value)
    assert error is not None and name in error


def test_every_option_default_passes_its_own_validation() -> None:
    for rule in all_rules():
        for name, option in rule.options.items():
            assert option.validate(name, option.default) is None, f"{rule.code}.{name}"
            assert option.doc, f"{rule.code}.{name} has no doc"


def test_generator_paths_option_decides_where_torch_sampling_needs_a_generator() -> None:
    source = "import torch\nIDX = torch.randperm(10)\n"
    assert "NC201" in codes("nanochat/dataloader.py", source)
    assert "NC201" not in codes(
        "nanochat/dataloader.py", source, {"NC201": {"generator_paths": []}}
    )


def test_config_paths_option_moves_where_hyperparameter_literals_belong() -> None:
    source = "LR = 3e-4\n"
    assert "NC301" in codes("nanochat/sweep.py", source)
    assert "NC301" not in codes(
        "nanochat/sweep.py", source, {"NC301": {"config_paths": ["nanochat/sweep.py"]}}
    )


def test_data_api_paths_option_decides_which_modules_may_read_files() -> None:
    source = "def read(p):\n    return open(p).read()\n"
    assert "NC401" in codes("nanochat/shards.py", source)
    assert "NC401" not in codes(
        "nanochat/shards.py", source, {"NC401": {"data_api_paths": ["nanochat/shards.py"]}}
    )


def test_strict_paths_option_limits_where_empty_overrides_are_placeholders() -> None:
    source = "class Head(Base):\n    def reset(self):\n        pass\n"
    assert "NC501" in codes("nanochat/model.py", source)
    assert "NC501" not in codes("vendor/model.py", source)
    assert "NC501" not in codes("nanochat/model.py", source, {"NC501": {"strict_paths": []}})
