# harness-golden: path=nanochat/checkpoint.py
"""Checkpoint loading that unpickles whatever the file contains."""

import torch


def load_model_state(path, device):
    return torch.load(path, map_location=device)  # expect: NC202


def load_optimizer_state(path):
    state = torch.load(  # expect: NC202
        path,
        map_location="cpu",
    )
    return state["optimizer"]


def load_meta(path):
    return torch.load(path, weights_only=False)["meta"]  # expect: NC202


def load_any(path):
    return torch.load(path)  # expect: NC202
