# harness-golden: path=nanochat/checkpoint.py
"""Loading through the serialization module and with the flag passed from a variable."""

import torch


def load_for_resume(path, trusted):
    return torch.serialization.load(path)  # expect: NC202


def load_flagged(path, trusted):
    return torch.load(path, weights_only=trusted)  # expect: NC202
