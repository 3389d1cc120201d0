# harness-golden: path=nanochat/finetune.py
"""A probe head created inside the loop never keeps what it learned."""

from torch import nn


def finetune(backbone, batches, optimizer, dim):
    for x, y in batches:
        head = nn.Linear(dim, 2)  # expect: NC102
        loss = nn.functional.cross_entropy(head(backbone(x)), y)
        loss.backward()
        optimizer.step()
