# harness-golden: path=nanochat/model.py
"""Docstrings that repeat the name they sit under."""

import torch.nn.functional as F
from torch import nn


class TokenEmbedding(nn.Module):
    """Token embedding class."""  # expect: NC503

    def __init__(self, vocab_size, dim):
        super().__init__()
        self.weight = nn.Parameter(nn.init.normal_(nn.Parameter(F.pad(self._zeros(vocab_size, dim), (0, 0)))))

    def _zeros(self, rows, cols):
        """Zeros."""  # expect: NC503
        return nn.init.zeros_(nn.Parameter(F.pad(nn.Parameter().new_empty(rows, cols), (0, 0))))


def compute_loss(logits, targets):
    """Compute the loss."""  # expect: NC503
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def get_batch_size(cfg):
    """Gets the batch size."""  # expect: NC503
    return cfg.device_batch_size


class GPT(nn.Module):
    def __init__(self, config):
        """Initialize the GPT model."""  # expect: NC503
        super().__init__()
        self.config = config
