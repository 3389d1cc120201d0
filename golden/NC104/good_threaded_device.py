# harness-golden: path=nanochat/checkpoint.py
"""The device is detected once and threaded through; comparisons only inspect it."""

import torch

from nanochat.device import detect_device


def build(model_cls, config, cfg):
    device = detect_device(cfg.device)
    model = model_cls(config).to(device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    state = torch.load("ckpt.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model, device


def offload(t):
    return t.to("cpu")
