"""Fixtures for the bench tests: ``prepared_data`` and ``prepared_env`` from tests/nanochat/conftest.py.

Fixtures of a conftest reach only its own folder, so that module is loaded by path and its two
fixtures are re-exported here; the session-scoped preparation then runs once more for this folder
(about 2 s on the 17-file tutorial corpus).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).parents[1] / "nanochat" / "conftest.py"
_SPEC = importlib.util.spec_from_file_location("nanochat_test_fixtures", _PATH)
_FIXTURES = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = _FIXTURES  # dataclasses look their module up there
_SPEC.loader.exec_module(_FIXTURES)

prepared_data = _FIXTURES.prepared_data
prepared_env = _FIXTURES.prepared_env
