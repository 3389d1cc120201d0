# harness-golden: path=scripts/sample.py
"""A sampling script that never seeds torch, so every run prints different text."""

import torch


def sample(logits, temperature):
    probs = torch.softmax(logits / temperature, dim=-1)
    return torch.multinomial(probs, num_samples=1)  # expect: NC201


def jitter(x):
    return x + 0.01 * torch.randn(x.shape)  # expect: NC201


if __name__ == "__main__":
    print(sample(torch.zeros(1, 8), 1.0))
