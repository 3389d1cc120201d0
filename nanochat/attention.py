"""Attention kernels for the GPT: rotary embeddings, sliding-window masks, flash/SDPA dispatch, KV cache.

Tensors here are laid out (B, T, H, D), as flash-attention wants them. The backend is
flash-attention (``flash_attn_interface`` for FA3, else ``flash_attn`` for FA2) when it imports and
the tensors live on CUDA, else ``F.scaled_dot_product_attention``. SDPA gets ``is_causal=True`` (its
fast path) whenever the window covers every key; only a window shorter than the context needs an
explicit boolean mask, which is slower on CPU (keep an all-"L" window pattern for CPU runs).

A window ``w`` means a query at position i sees keys at positions j with ``i - w < j <= i``,
so ``w`` counts the query's own token; ``None`` means unbounded causal attention.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F


def _import_flash():
    try:
        from flash_attn_interface import flash_attn_func  # FA3 (Hopper)

        return flash_attn_func
    except ImportError:
        pass
    try:
        from flash_attn import flash_attn_func  # FA2

        return flash_attn_func
    except ImportError:
        return None


FLASH_ATTN_FUNC = _import_flash()


def rotary_table(seq_len: int, head_dim: int, base: float, device: torch.device) -> torch.Tensor:
    """Unit rotations e^(i t w_j) as real pairs, shaped (1, seq_len, 1, head_dim // 2, 2), fp32.

    Stored real (not complex) so DDP's buffer broadcast and ``to_empty`` see an ordinary tensor.
    """
    inv_freq = 1.0 / (
        base ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim)
    )
    angles = torch.outer(torch.arange(seq_len, dtype=torch.float32, device=device), inv_freq)
    return torch.stack((angles.cos(), angles.sin()), dim=-1)[None, :, None]


def apply_rotary(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Rotate adjacent channel pairs (2j, 2j + 1) of x (B, T, H, D) by ``table`` (1, T, 1, D/2, 2).

    Eager: one complex multiply (on CPU ~7 fewer kernels than the split/stack form). Under
    torch.compile: the real form, because Inductor cannot generate code for complex ops.
    """
    if torch.compiler.is_compiling():
        return rotate_real(x, table)
    pairs = torch.view_as_complex(x.float().unflatten(-1, (-1, 2)))
    return torch.view_as_real(pairs * torch.view_as_complex(table)).flatten(-2).type_as(x)


def rotate_real(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """The same rotation in real arithmetic: (a, b) -> (a cos - b sin, a sin + b cos)."""
    pairs = x.float().unflatten(-1, (-1, 2))
    a, b = pairs[..., 0], pairs[..., 1]
    cos, sin = table[..., 0], table[..., 1]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2).type_as(x)


@lru_cache(maxsize=32)
def window_mask(t_q: int, t_k: int, window: int | None, device: torch.device) -> torch.Tensor:
    """Boolean (t_q, t_k) mask, True where attention is allowed; queries are the last t_q of t_k positions."""
    q_pos = torch.arange(t_k - t_q, t_k, device=device)[:, None]
    k_pos = torch.arange(t_k, device=device)[None, :]
    allowed = k_pos <= q_pos
    if window is not None:
        allowed &= q_pos - k_pos < window
    return allowed


def needs_mask(t_q: int, t_k: int, window: int | None) -> bool:
    """Whether SDPA needs an explicit mask; False means is_causal=True (t_q == t_k) or no mask (t_q == 1)."""
    window_covers = window is None or window >= t_k
    return not (window_covers and (t_q == t_k or t_q == 1))


def sdpa_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int | None
) -> torch.Tensor:
    """Causal (optionally windowed) attention through SDPA; q (B, Tq, H, D), k/v (B, Tk, Hkv, D)."""
    t_q, t_k = q.size(1), k.size(1)
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    gqa = q.size(1) != k.size(1)
    if not needs_mask(t_q, t_k, window):
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=t_q == t_k and t_q > 1, enable_gqa=gqa
        )
    else:
        mask = window_mask(t_q, t_k, window, q.device)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=gqa)
    return y.transpose(1, 2)


def flash_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int | None
) -> torch.Tensor:
    """Causal (optionally windowed) attention through flash-attention; same shapes as sdpa_attention."""
    left = -1 if window is None else window - 1
    out = FLASH_ATTN_FUNC(q, k, v, causal=True, window_size=(left, 0))
    return out[0] if isinstance(out, tuple) else out  # FA3 returns (out, lse)


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int | None
) -> torch.Tensor:
    """Dispatch to flash-attention on CUDA when it is installed, else SDPA."""
    device_type = q.device.type
    if torch.is_autocast_enabled(device_type):
        # QK-norm and rotary run in fp32 and value embeddings are fp32; bring all three back to
        # the autocast dtype so flash-attention (bf16/fp16 only) can take them.
        dtype = torch.get_autocast_dtype(device_type)
        q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    if FLASH_ATTN_FUNC is not None and q.is_cuda and q.dtype in (torch.bfloat16, torch.float16):
        return flash_attention(q, k, v, window)
    return sdpa_attention(q, k, v, window)


class KVCache:
    """Preallocated keys and values for generation: per layer (B, max_len, Hkv, D); ``pos`` tokens filled."""

    def __init__(
        self, n_layer: int, batch: int, max_len: int, n_kv_head: int, head_dim: int, device, dtype
    ):
        shape = (batch, max_len, n_kv_head, head_dim)
        self.keys = [torch.empty(shape, device=device, dtype=dtype) for _ in range(n_layer)]
        self.values = [torch.empty(shape, device=device, dtype=dtype) for _ in range(n_layer)]
        self.max_len = max_len
        self.pos = 0

    def update(
        self, layer: int, k: torch.Tensor, v: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write this step's k/v (B, T, Hkv, D) after the cached ones; return all keys/values so far."""
        end = self.pos + k.size(1)
        if end > self.max_len:
            raise ValueError(f"KV cache overflow: {end} tokens > max_len {self.max_len}")
        self.keys[layer][:, self.pos : end] = k
        self.values[layer][:, self.pos : end] = v
        return self.keys[layer][:, :end], self.values[layer][:, :end]

    def advance(self, n_tokens: int) -> None:
        """Mark ``n_tokens`` more positions as filled once every layer has written them."""
        self.pos += n_tokens
