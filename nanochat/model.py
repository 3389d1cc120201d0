"""The GPT: a small modern decoder in the karpathy/nanochat lineage.

Architecture choices (each a ModelConfig knob where autoresearch tuned it):
- width from depth (``model_dim = depth * aspect_ratio`` rounded to ``head_dim``), GQA via ``n_kv_head_ratio``;
- rotary position embeddings (``rope_base``), no learned positions;
- parameter-free RMSNorm: pre-norm in every block, after the token embedding and before the head;
- QK-norm, then q and k multiplied by ``qk_norm_scale``;
- ReLU^2 MLP with 4x expansion; no biases anywhere;
- untied embedding and head; vocabulary padded to ``vocab_multiple`` (padded head rows are never
  used: the head multiplies by the first ``vocab_size`` rows only);
- fp32 logits with a tanh softcap;
- value embeddings on alternating layers (the last layer always has one), added to V through a
  per-KV-head gate ``sigmoid(W x[..., :ve_gate_channels])``; W starts at zero, so every gate starts
  at 0.5 and the model begins with half of each value embedding mixed in;
- per-layer scalars ``x = resid_lambdas[i] * x + x0_lambdas[i] * x0`` before each block, x0 being the
  normed embedding (init 1 and 0, so training starts from a plain residual stream);
- sliding windows from ``window_pattern`` tiled over depth, last layer always long.

RMSNorm, the residual mix, ReLU^2 and the softcap are small custom autograd functions: PyTorch's
own backward for them decomposes into many elementwise kernels, and on CPU kernel count and fresh
(B, T, V) allocations dominate (see docs/benchmarks-trainer.md).

Build with ``GPT.build(config, device)``: construction on the meta device, then ``to_empty`` and the
explicit ``init_weights`` scheme, so no memory is spent on a throw-away default init.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F

from nanochat import flops
from nanochat.attention import KVCache, apply_rotary, attention, rotary_table
from nanochat.config import ModelConfig


def check_model_config(config: ModelConfig) -> None:
    """Raise ValueError naming the flag and its bad value when the GPT cannot be built from it."""
    c = config
    rules = [
        (c.depth >= 1, f"--depth {c.depth}: must be at least 1"),
        (
            c.head_dim >= 2 and c.head_dim % 2 == 0,
            f"--head-dim {c.head_dim}: must be even (rotary pairs)",
        ),
        (c.aspect_ratio >= 1, f"--aspect-ratio {c.aspect_ratio}: must be at least 1"),
        (
            c.n_kv_head_ratio >= 1 and c.n_head % c.n_kv_head_ratio == 0,
            f"--n-kv-head-ratio {c.n_kv_head_ratio}: must divide n_head {c.n_head}",
        ),
        (c.sequence_len >= 2, f"--sequence-len {c.sequence_len}: must be at least 2"),
        (c.vocab_size >= 2, f"--vocab-size {c.vocab_size}: must be at least 2"),
        (c.vocab_multiple >= 1, f"--vocab-multiple {c.vocab_multiple}: must be at least 1"),
        (c.rope_base > 0, f"--rope-base {c.rope_base}: must be positive"),
        (
            bool(c.window_pattern) and set(c.window_pattern.upper()) <= {"S", "L"},
            f"--window-pattern {c.window_pattern!r}: use only the letters S and L, e.g. SSSL",
        ),
        (
            0 < c.short_window_frac <= 1,
            f"--short-window-frac {c.short_window_frac}: must be in (0, 1]",
        ),
        (
            0 < c.ve_gate_channels <= c.model_dim,
            f"--ve-gate-channels {c.ve_gate_channels}: must be in [1, model_dim {c.model_dim}]",
        ),
    ]
    for is_ok, message in rules:
        if not is_ok:
            raise ValueError(message)


class _RMSNorm(torch.autograd.Function):
    """Parameter-free RMSNorm in fp32 with a 3-kernel backward.

    ``F.rms_norm`` is one fused kernel forward but autograd decomposes its backward into ~10
    elementwise kernels; here dx = r * (g - y * mean(g * y)), with the mean as one ``vecdot``.
    Measured 4x faster forward+backward on CPU for (8, 256, 256).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        eps = torch.finfo(torch.float32).eps
        mean_sq = torch.linalg.vector_norm(xf, dim=-1, keepdim=True).square_().div_(x.size(-1))
        r = mean_sq.add_(eps).rsqrt_()  # (..., 1)
        y = xf * r
        ctx.save_for_backward(y, r)
        return y.to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        y, r = ctx.saved_tensors
        g = grad.float()
        mean_gy = torch.linalg.vecdot(g, y, dim=-1).unsqueeze(-1).div_(y.size(-1))
        return (g * r).addcmul_(y, mean_gy * r, value=-1).to(grad.dtype)


class _ResidualMix(torch.autograd.Function):
    """``a * x + b * x0`` for scalar tensors a, b, with dot-product gradients for the scalars."""

    @staticmethod
    def forward(ctx, x, x0, a, b):
        ctx.save_for_backward(x, x0, a, b)
        return torch.addcmul(x * a, x0, b)

    @staticmethod
    def backward(ctx, grad):
        x, x0, a, b = ctx.saved_tensors
        g = grad.flatten()
        grad_a = torch.dot(g, x.flatten().to(g.dtype)).reshape(a.shape).to(a.dtype)
        grad_b = torch.dot(g, x0.flatten().to(g.dtype)).reshape(b.shape).to(b.dtype)
        return grad * a, grad * b, grad_a, grad_b


class _Softcap(torch.autograd.Function):
    """``cap * tanh(z)`` computed in place on the (B, T, V) logits, whose pre-cap values nothing
    else needs; dz = g * (cap - y^2 / cap). Saves three (B, T, V) allocations per step, which on
    CPU cost page faults comparable to the math (measured: ~100 ms -> ~50 ms at B*T*V = 8M)."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, cap: float) -> torch.Tensor:
        ctx.mark_dirty(z)
        y = z.tanh_().mul_(cap)
        ctx.save_for_backward(y)
        ctx.cap = cap
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (y,) = ctx.saved_tensors
        cap = torch.tensor(ctx.cap, dtype=y.dtype, device=y.device)
        return torch.addcmul(cap, y, y, value=-1.0 / ctx.cap).mul_(grad), None


class _ReluSquared(torch.autograd.Function):
    """relu(h)^2 with one saved tensor and a one-kernel backward: dh = 2 * relu(h) * g."""

    @staticmethod
    def forward(ctx, h: torch.Tensor) -> torch.Tensor:
        r = torch.relu(h)
        ctx.save_for_backward(r)
        return r * r

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (r,) = ctx.saved_tensors
        return torch.mul(r, grad).mul_(2.0)


def norm(x: torch.Tensor) -> torch.Tensor:
    """Parameter-free RMSNorm over the last dimension (eps = fp32 machine epsilon)."""
    return _RMSNorm.apply(x)


def layer_windows(config: ModelConfig) -> list[int | None]:
    """Per-layer attention window in tokens; None for long (full causal) layers."""
    pattern = config.window_pattern.upper()
    letters = [pattern[i % len(pattern)] for i in range(config.depth)]
    letters[-1] = "L"
    short = max(1, int(config.short_window_frac * config.sequence_len))
    return [short if letter == "S" else None for letter in letters]


def has_value_embed(layer: int, config: ModelConfig) -> bool:
    """Alternating layers, phased so the last layer always has a value embedding."""
    return config.value_embeds and layer % 2 == (config.depth - 1) % 2


def _embedding(num: int, dim: int) -> nn.Embedding:
    """An embedding without its default N(0, 1) draw: init_weights sets it, and that draw on the
    meta device costs about a second of one-time dispatch."""
    return nn.Embedding(num, dim, _weight=torch.empty(num, dim))


class CausalSelfAttention(nn.Module):
    def __init__(self, config: ModelConfig, layer: int):
        super().__init__()
        self.n_head, self.n_kv_head, self.head_dim = (
            config.n_head,
            config.n_kv_head,
            config.head_dim,
        )
        self.qk_scale = config.qk_norm_scale
        self.ve_gate_channels = config.ve_gate_channels
        dim, kv_dim = config.model_dim, config.n_kv_head * config.head_dim
        self.c_q = nn.Linear(dim, self.n_head * self.head_dim, bias=False)
        self.c_k = nn.Linear(dim, kv_dim, bias=False)
        self.c_v = nn.Linear(dim, kv_dim, bias=False)
        self.c_proj = nn.Linear(dim, dim, bias=False)
        self.ve_gate = (
            nn.Linear(config.ve_gate_channels, self.n_kv_head, bias=False)
            if has_value_embed(layer, config)
            else None
        )

    def forward(
        self, x, ve, rotary, window: int | None, cache: KVCache | None, layer: int
    ) -> torch.Tensor:
        B, T, C = x.shape
        H, Hkv = self.n_head, self.n_kv_head
        # One matmul for q, k and v (Muon still sees three matrices), one norm and one rotation
        # for q and k together: fewer, larger kernels, which is what a CPU step is bound by.
        w_qkv = torch.cat((self.c_q.weight, self.c_k.weight, self.c_v.weight))
        qkv = F.linear(x, w_qkv).view(B, T, H + 2 * Hkv, self.head_dim)
        qk, v = qkv.split((H + Hkv, Hkv), dim=2)
        if ve is not None:
            gate = torch.sigmoid(self.ve_gate(x[..., : self.ve_gate_channels]))  # (B, T, Hkv)
            v = v + gate.unsqueeze(-1) * ve.view(B, T, Hkv, self.head_dim)
        qk = norm(qk)
        if self.qk_scale != 1.0:
            qk = qk * self.qk_scale
        q, k = apply_rotary(qk, rotary).split((H, Hkv), dim=2)
        if cache is not None:
            k, v = cache.update(layer, k, v)
        y = attention(q, k, v, window)  # (B, T, H, D)
        return self.c_proj(y.reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.model_dim, 4 * config.model_dim, bias=False)
        self.c_proj = nn.Linear(4 * config.model_dim, config.model_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(_ReluSquared.apply(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, config: ModelConfig, layer: int):
        super().__init__()
        self.layer = layer
        self.attn = CausalSelfAttention(config, layer)
        self.mlp = MLP(config)

    def forward(self, x, ve, rotary, window: int | None, cache: KVCache | None) -> torch.Tensor:
        x = x + self.attn(norm(x), ve, rotary, window, cache, self.layer)
        return x + self.mlp(norm(x))


class GPT(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        check_model_config(config)
        self.config = config
        self.windows = layer_windows(config)
        vocab, dim = config.padded_vocab_size, config.model_dim
        kv_dim = config.n_kv_head * config.head_dim
        self.wte = _embedding(vocab, dim)
        self.blocks = nn.ModuleList([Block(config, i) for i in range(config.depth)])
        self.value_embeds = nn.ModuleDict(
            {
                str(i): _embedding(vocab, kv_dim)
                for i in range(config.depth)
                if has_value_embed(i, config)
            }
        )
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.resid_lambdas = nn.Parameter(torch.ones(config.depth))
        self.x0_lambdas = nn.Parameter(torch.zeros(config.depth))
        # The table is computed for real in init_weights; arange on the meta device would pull in
        # torch._dynamo (about a second of imports) for nothing.
        rotary = torch.empty(1, config.sequence_len, 1, config.head_dim // 2, 2)
        if not rotary.is_meta:
            rotary = rotary_table(
                config.sequence_len, config.head_dim, config.rope_base, rotary.device
            )
        self.register_buffer("rotary", rotary, persistent=False)

    @classmethod
    def build(cls, config: ModelConfig, device: torch.device | str) -> GPT:
        """Construct on the meta device, materialise on ``device`` and run ``init_weights``."""
        with torch.device("meta"):
            model = cls(config)
        model.to_empty(device=device)
        model.init_weights()
        return model

    @torch.no_grad()
    def init_weights(self) -> None:
        """The explicit init scheme; also recomputes the rotary table on the parameters' device.

        Embeddings (token and value) ~ N(0, 1); head ~ N(0, lm_head_init_std); block input matrices
        ~ U(-a, a) with a = sqrt(3 / model_dim), i.e. std 1/sqrt(model_dim); output projections
        and value-embedding gates zero, so every block starts as the identity.
        """
        config = self.config
        bound = (3.0 / config.model_dim) ** 0.5
        nn.init.normal_(self.wte.weight, std=1.0)
        for embed in self.value_embeds.values():
            nn.init.normal_(embed.weight, std=1.0)
        nn.init.normal_(self.lm_head.weight, std=config.lm_head_init_std)
        for block in self.blocks:
            for linear in (block.attn.c_q, block.attn.c_k, block.attn.c_v, block.mlp.c_fc):
                nn.init.uniform_(linear.weight, -bound, bound)
            nn.init.zeros_(block.attn.c_proj.weight)
            nn.init.zeros_(block.mlp.c_proj.weight)
            if block.attn.ve_gate is not None:
                nn.init.zeros_(block.attn.ve_gate.weight)
        self.resid_lambdas.fill_(1.0)
        self.x0_lambdas.fill_(0.0)
        self.rotary.copy_(
            rotary_table(config.sequence_len, config.head_dim, config.rope_base, self.rotary.device)
        )

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
    ) -> torch.Tensor:
        """Logits (B, T, vocab_size) in fp32, or the mean cross-entropy when targets are given (-1 ignored)."""
        B, T = idx.shape
        start = kv_cache.pos if kv_cache is not None else 0
        if start + T > self.rotary.size(1):
            raise ValueError(
                f"sequence of {start + T} tokens exceeds sequence_len {self.config.sequence_len}"
            )
        rotary = self.rotary[:, start : start + T]
        x = norm(self.wte(idx))
        x0 = x
        for i, block in enumerate(self.blocks):
            x = _ResidualMix.apply(x, x0, self.resid_lambdas[i], self.x0_lambdas[i])
            ve = self.value_embeds[str(i)](idx) if block.attn.ve_gate is not None else None
            x = block(x, ve, rotary, self.windows[i], kv_cache)
        if kv_cache is not None:
            kv_cache.advance(T)
        x = norm(x)
        cap = self.config.logit_softcap
        if cap > 0:
            x = x * (1.0 / cap)  # divide the (B, T, C) input, not the (B, T, V) logits
        logits = F.linear(x, self.lm_head.weight[: self.config.vocab_size]).float()
        if cap > 0:
            logits = _Softcap.apply(logits, cap)
        if targets is None:
            return logits
        return F.cross_entropy(
            logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1
        )

    def estimate_flops_per_token(self, seq_len: int | None = None) -> float:
        """Training FLOPs per token (forward + backward); see ``nanochat.flops``."""
        return flops.flops_per_token(self, seq_len or self.config.sequence_len)

    def num_params_by_group(self) -> dict[str, int]:
        """Parameter counts: wte, value_embeds, lm_head, matrices, scalars and total."""
        return flops.params_by_group(self)

    @torch.no_grad()
    def generate(
        self,
        tokens: list[int],
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int | None = None,
    ) -> Iterator[int]:
        """Yield up to ``max_new_tokens`` sampled token ids after the prompt, using a KV cache.

        temperature 0 picks the argmax; ``seed`` None draws a fresh seed; prompt plus new tokens
        must fit in sequence_len.
        """
        if not tokens:
            raise ValueError("generate() needs at least one prompt token (start with the BOS id)")
        device = self.wte.weight.device
        config = self.config
        total = len(tokens) + max_new_tokens
        if total > config.sequence_len:
            raise ValueError(
                f"prompt ({len(tokens)}) + max_new_tokens ({max_new_tokens}) exceeds sequence_len {config.sequence_len}"
            )
        cache = KVCache(
            config.depth, 1, total, config.n_kv_head, config.head_dim, device, self.wte.weight.dtype
        )
        rng = torch.Generator(device=device)
        if seed is None:
            rng.seed()  # nondeterministic
        else:
            rng.manual_seed(seed)
        ids = torch.tensor([tokens], dtype=torch.long, device=device)
        for _ in range(max_new_tokens):
            logits = self.forward(ids, kv_cache=cache)[:, -1, :]
            if temperature <= 0:
                next_id = logits.argmax(dim=-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None and top_k > 0:
                    kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                next_id = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=rng)
            ids = next_id
            yield int(next_id.item())
