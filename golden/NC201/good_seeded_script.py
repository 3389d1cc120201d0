# harness-golden: path=scripts/sample.py
"""An entry point that seeds every global generator it draws from."""

import random

import torch


def sample(logits, generator):
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)


if __name__ == "__main__":
    random.seed(0)
    torch.manual_seed(0)
    print(random.random(), torch.randn(2), sample(torch.zeros(1, 8), torch.Generator().manual_seed(0)))
