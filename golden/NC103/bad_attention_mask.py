# harness-golden: path=nanochat/attention.py
"""An attention block that ships its mask to the GPU on every call."""

import torch
import torch.nn.functional as F
from torch import nn


class CausalSelfAttention(nn.Module):
    def __init__(self, dim, n_head, seq_len):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.n_head = n_head
        self.mask = torch.ones(seq_len, seq_len, dtype=torch.bool).tril()

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_head, C // self.n_head).unbind(2)
        mask = self.mask[:T, :T].to(device=x.device)  # expect: NC103
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
