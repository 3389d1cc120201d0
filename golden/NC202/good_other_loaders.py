# harness-golden: path=nanochat/checkpoint.py
"""Other libraries' load functions are not torch.load."""

import json

import numpy as np
import torch


def load_meta(path):
    with open(path) as f:
        return json.load(f)


def load_array(path):
    return np.load(path, allow_pickle=False)


def load_state(path, device):
    return torch.load(path, map_location=device, weights_only=True)
