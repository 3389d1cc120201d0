# harness-golden: path=nanochat/model.py
"""A model file that picked up packages nobody declared."""

import einops  # expect: NC302
import torch
from transformers import AutoTokenizer  # expect: NC302


def rearrange_heads(x, n_head):
    return einops.rearrange(x, "b t (h d) -> b h t d", h=n_head)


def reference_tokenizer(name):
    return AutoTokenizer.from_pretrained(name), torch.zeros(1)
