# harness-golden: path=nanochat/model.py
"""Debug prints left in a model."""

from torch import nn


class MLP(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, 4 * dim)
        print("MLP params:", sum(p.numel() for p in self.parameters()))  # expect: NC504

    def forward(self, x):
        print(x.shape)  # expect: NC504
        return self.fc(x)
