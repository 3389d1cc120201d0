# harness-golden: path=tests/harness/test_example.py
"""Dev-only tools declared under [project.optional-dependencies] dev, and a guarded import."""

import hypothesis
import jsonschema
import pytest

try:
    import anthropic
except ModuleNotFoundError:
    anthropic = None


def test_optional_client_is_none_or_a_module():
    assert anthropic is None or hasattr(anthropic, "__name__")
    assert hypothesis and jsonschema and pytest
