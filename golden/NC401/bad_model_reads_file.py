# harness-golden: path=nanochat/model.py
"""A model that loads its own init statistics from disk."""

import json

from torch import nn


class GPT(nn.Module):
    def __init__(self, config, stats_path):
        super().__init__()
        with open(stats_path, "rb") as f:  # expect: NC401
            self.stats = json.load(f)  # expect: NC401
        self.lm_head = nn.Linear(config.model_dim, config.vocab_size)


def peek_validation(name):
    from datasets import load_dataset  # expect: NC302

    return load_dataset(name, split="validation")  # expect: NC401
