# harness-golden: path=nanochat/engine.py
"""An inference engine with its device baked into defaults and attributes."""

import torch


class Engine:
    def __init__(self, model, device="cuda"):  # expect: NC104
        self.model = model
        self.device = device
        self.cache_device = "cuda:0"  # expect: NC104

    def warmup(self):
        x = torch.zeros(1, 8, dtype=torch.long).cuda()  # expect: NC104, NC105
        return self.model(x)
