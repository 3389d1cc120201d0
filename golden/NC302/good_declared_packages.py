# harness-golden: path=nanochat/model.py
"""Standard library, declared third-party packages, first-party and optional imports."""

import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch

from nanochat.config import ModelConfig

from . import device

try:
    import flash_attn
except ImportError:
    flash_attn = None


def describe(path: Path, cfg: ModelConfig):
    return json.dumps({"name": path.name, "sqrt_dim": math.sqrt(cfg.model_dim)}), np, pq, torch, device
