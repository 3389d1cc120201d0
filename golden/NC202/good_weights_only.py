# harness-golden: path=nanochat/checkpoint.py
"""Checkpoints hold tensors, dicts and numbers only, so weights_only=True loads them."""

import torch


def load_model_state(path, device):
    return torch.load(path, map_location=device, weights_only=True)


def load_optimizer_state(path):
    state = torch.load(
        path,
        map_location="cpu",
        weights_only=True,
    )
    return state["optimizer"]


def save(model, path):
    torch.save(model.state_dict(), path)
