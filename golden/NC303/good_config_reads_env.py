# harness-golden: path=nanochat/config.py
"""The config module turns the environment into fields."""

import os
from pathlib import Path


def base_dir() -> Path:
    return Path(os.environ.get("NANOCHAT_BASE_DIR", Path.home() / ".cache" / "nanochat"))
