# harness-golden: path=nanochat/checkpoint.py
"""A trainer that assumes one CUDA GPU wherever it touches a device."""

import torch

DEFAULT_DEVICE = "cuda:0"  # expect: NC104


def build(model_cls, config):
    model = model_cls(config).to("cuda")  # expect: NC104
    state = torch.load("ckpt.pt", map_location="cuda", weights_only=True)  # expect: NC104
    model.load_state_dict(state)
    return model


def make_batch(tokens, device="mps"):  # expect: NC104
    x = torch.tensor(tokens[:-1], device=torch.device("cuda"))  # expect: NC104
    y = torch.tensor(tokens[1:]).cuda()  # expect: NC104, NC105
    return x, y


def pick_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")  # expect: NC104
