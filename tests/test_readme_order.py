"""The README's commands work in the order it shows them: what `make check` prepares is what
`python -m nanochat.train` reads."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_make_prepares_data_where_the_trainer_looks_for_it():
    env = {k: v for k, v in os.environ.items() if k != "NANOCHAT_BASE_DIR"}
    database = subprocess.run(
        ["make", "-p", "-n", "-C", str(REPO_ROOT), "data"],
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    assert "NANOCHAT_BASE_DIR" not in database, "the Makefile redirects the data the trainer reads"


def test_the_trainer_and_the_data_preparation_share_one_cache_root(tmp_path, monkeypatch):
    from nanochat.config import base_dir

    monkeypatch.delenv("NANOCHAT_BASE_DIR", raising=False)
    assert base_dir() == Path.home() / ".cache" / "nanochat"
    monkeypatch.setenv("NANOCHAT_BASE_DIR", str(tmp_path))
    assert base_dir() == tmp_path
