"""Options shared by the whole suite: ``--update-snapshots`` rewrites the golden snapshots.

The option lives here, at the root of ``testpaths``, because pytest reads ``pytest_addoption``
only from conftest files it loads before parsing the command line.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="rewrite golden/<CODE>/*.findings and *.py.fixed from the engine instead of comparing",
    )


@pytest.fixture
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites snapshots (``make snapshots``) rather than checking them."""
    return bool(request.config.getoption("--update-snapshots"))
