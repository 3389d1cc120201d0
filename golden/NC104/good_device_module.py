# harness-golden: path=nanochat/device.py
"""The device-detection module is the one place allowed to name device types."""

import torch


def detect_device(preference=""):
    if preference:
        return torch.device(preference)
    if torch.backends.mps.is_built():
        return torch.device("mps")
    return torch.device("cuda")
