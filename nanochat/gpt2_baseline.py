"""A plain GPT-2 (Radford et al., 2019) to measure the modern stack against: ``--model-family gpt2``.

What it is, against ``nanochat.model.GPT``:
- learned absolute position embeddings (``sequence_len x width``) added to the token embedding;
- pre-norm LayerNorm with weight and bias before attention, before the MLP and before the head;
- standard causal self-attention over the whole context (one fused q/k/v Linear, SDPA
  ``is_causal=True``); no rotary, QK-norm, value embeddings, windows or residual scalars;
- GELU (tanh form, as GPT-2) MLP with 4x expansion; biases in every Linear;
- the head tied to the token embedding (``gpt2_tie_embeddings``); plain fp32 logits, no softcap;
- init N(0, ``gpt2_init_std``), residual output projections N(0, std / sqrt(2 x depth)), biases 0;
- trained with AdamW alone (``build_optimizer``): one LR ``gpt2_lr`` x sqrt(batch / reference
  batch), betas ``gpt2_betas``, constant decoupled weight decay ``gpt2_weight_decay`` on matrices
  and embeddings, none on biases and LayerNorms. The LR schedule is the trainer's (warm-up from
  ``gpt2_warmup_steps``, warm-down as configured).

Width: the baseline keeps the modern config's depth, vocabulary and context and takes the width
whose total parameter count is closest to the nanochat GPT's (value embeddings included), see
``matched_shape``: widths are n_head x head_dim with head_dim a multiple of
``gpt2_head_dim_multiple`` between half and twice ``head_dim``; ties go to the head_dim nearest
``head_dim``. At the default depth 4 that is 352 = 4 x 88 wide, 2.1% more parameters than the
nanochat GPT. Matching total parameters gives the baseline more FLOPs per token (the modern
model's value embeddings are lookups), which ``estimate_flops_per_token`` reports.

The contract is the GPT's: ``forward(idx)`` returns (B, T, vocab_size) fp32 logits and
``forward(idx, targets)`` the mean cross-entropy (targets -1 ignored); it has ``config``,
``num_params_by_group`` and ``estimate_flops_per_token``.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from nanochat.config import ModelConfig, OptimConfig
from nanochat.optim import MuonAdamW


def check_gpt2_config(config: ModelConfig, optim: OptimConfig | None = None) -> None:
    """Raise ValueError naming the flag and its bad value when the baseline cannot be built or trained."""
    c, o = config, optim or OptimConfig()
    rules = [
        (
            c.gpt2_head_dim_multiple >= 1,
            f"--gpt2-head-dim-multiple {c.gpt2_head_dim_multiple}: must be at least 1",
        ),
        (c.gpt2_init_std > 0, f"--gpt2-init-std {c.gpt2_init_std}: must be positive"),
        (
            c.gpt2_layernorm_eps > 0,
            f"--gpt2-layernorm-eps {c.gpt2_layernorm_eps}: must be positive",
        ),
        (o.gpt2_lr >= 0, f"--gpt2-lr {o.gpt2_lr}: must be >= 0"),
        (
            all(0 <= b < 1 for b in o.gpt2_betas),
            f"--gpt2-betas {o.gpt2_betas}: each must be in [0, 1)",
        ),
        (o.gpt2_eps > 0, f"--gpt2-eps {o.gpt2_eps}: must be positive"),
        (o.gpt2_weight_decay >= 0, f"--gpt2-weight-decay {o.gpt2_weight_decay}: must be >= 0"),
        (o.gpt2_warmup_steps >= 0, f"--gpt2-warmup-steps {o.gpt2_warmup_steps}: must be >= 0"),
    ]
    for is_ok, message in rules:
        if not is_ok:
            raise ValueError(message)


def param_count(config: ModelConfig, width: int) -> int:
    """Parameters of the baseline at ``width``: embeddings, blocks (12 w^2 + 13 w each), final norm."""
    embeddings = config.padded_vocab_size * width + config.sequence_len * width
    head = 0 if config.gpt2_tie_embeddings else config.padded_vocab_size * width
    return embeddings + config.depth * (12 * width * width + 13 * width) + 2 * width + head


def _nanochat_param_count(config: ModelConfig) -> int:
    from nanochat.model import GPT

    with torch.device("meta"):
        return GPT(config).num_params_by_group()["total"]


def matched_shape(config: ModelConfig) -> tuple[int, int]:
    """(width, n_head) whose parameter count is closest to the nanochat GPT of ``config``."""
    target = _nanochat_param_count(config)
    # Solve 12 L w^2 + b w = target for the continuous width, then try the head grid around it.
    quadratic = 12 * config.depth
    linear = param_count(config, 1) - quadratic
    ideal = (-linear + math.sqrt(linear * linear + 4 * quadratic * target)) / (2 * quadratic)
    step = config.gpt2_head_dim_multiple
    low = max(step, math.ceil(config.head_dim / 2 / step) * step)
    candidates = []
    for head_dim in range(low, 2 * config.head_dim + 1, step):
        for n_head in {max(1, math.floor(ideal / head_dim)), max(1, math.ceil(ideal / head_dim))}:
            width = n_head * head_dim
            miss = abs(param_count(config, width) - target)
            candidates.append((miss, abs(head_dim - config.head_dim), width, n_head))
    if not candidates:
        raise ValueError(
            f"--head-dim {config.head_dim}: no multiple of --gpt2-head-dim-multiple "
            f"{config.gpt2_head_dim_multiple} lies within [head_dim / 2, 2 x head_dim]"
        )
    _, _, width, n_head = min(candidates)
    return width, n_head


class CausalSelfAttention(nn.Module):
    def __init__(self, width: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).view(B, T, 3, self.n_head, C // self.n_head).unbind(dim=2)
        y = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
        )  # (B, H, T, D)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, width: int, n_head: int, eps: float):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=eps)
        self.attn = CausalSelfAttention(width, n_head)
        self.ln_2 = nn.LayerNorm(width, eps=eps)
        self.c_fc = nn.Linear(width, 4 * width)
        self.c_proj = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self, config: ModelConfig, shape: tuple[int, int] | None = None):
        super().__init__()
        check_gpt2_config(config)
        self.config = config
        self.width, self.n_head = shape or matched_shape(config)
        vocab, width, eps = config.padded_vocab_size, self.width, config.gpt2_layernorm_eps
        self.wte = nn.Embedding(vocab, width, _weight=torch.empty(vocab, width))
        self.wpe = nn.Embedding(
            config.sequence_len, width, _weight=torch.empty(config.sequence_len, width)
        )
        self.blocks = nn.ModuleList([Block(width, self.n_head, eps) for _ in range(config.depth)])
        self.ln_f = nn.LayerNorm(width, eps=eps)
        self.lm_head = None if config.gpt2_tie_embeddings else nn.Linear(width, vocab, bias=False)

    @classmethod
    def build(cls, config: ModelConfig, device: torch.device | str) -> GPT2:
        """Construct on the meta device, materialise on ``device`` and run ``init_weights``."""
        shape = matched_shape(config)
        with torch.device("meta"):
            model = cls(config, shape)
        model.to_empty(device=device)
        model.init_weights()
        return model

    @torch.no_grad()
    def init_weights(self) -> None:
        """GPT-2's scheme: N(0, std) weights, residual projections std / sqrt(2 x depth), zero biases."""
        std = self.config.gpt2_init_std
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif ".ln_" in name or name.startswith("ln_"):
                nn.init.ones_(p)
            elif name.endswith("c_proj.weight"):
                nn.init.normal_(p, std=std / math.sqrt(2 * self.config.depth))
            else:
                nn.init.normal_(p, std=std)

    def head_weight(self) -> torch.Tensor:
        return self.wte.weight if self.lm_head is None else self.lm_head.weight

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, T, vocab_size) in fp32, or the mean cross-entropy when targets are given (-1 ignored)."""
        B, T = idx.shape
        if T > self.config.sequence_len:
            raise ValueError(
                f"sequence of {T} tokens exceeds sequence_len {self.config.sequence_len}"
            )
        x = self.wte(idx) + self.wpe.weight[:T]
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        logits = F.linear(x, self.head_weight()[: self.config.vocab_size]).float()
        if targets is None:
            return logits
        return F.cross_entropy(
            logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1
        )

    def num_params_by_group(self) -> dict[str, int]:
        """Parameter counts: wte, wpe, lm_head (0 when tied), matrices (blocks and final norm), total."""
        counts = {
            "wte": self.wte.weight.numel(),
            "wpe": self.wpe.weight.numel(),
            "lm_head": 0 if self.lm_head is None else self.lm_head.weight.numel(),
            "matrices": sum(p.numel() for p in self.blocks.parameters())
            + sum(p.numel() for p in self.ln_f.parameters()),
        }
        counts["total"] = sum(counts.values())
        return counts

    def estimate_flops_per_token(self, seq_len: int | None = None) -> float:
        """6 x (block weights + head matmul) + 12 x width x seq_len per layer (attention scores)."""
        seq_len = seq_len or self.config.sequence_len
        block_weights = sum(
            p.numel()
            for n, p in self.blocks.named_parameters()
            if n.endswith("weight") and p.dim() == 2
        )
        head = self.head_weight().numel()
        return 6.0 * (block_weights + head) + 12.0 * self.width * seq_len * self.config.depth


def param_groups(model: GPT2, config: OptimConfig, total_batch_tokens: int) -> list[dict]:
    """Two AdamW groups: matrices and embeddings with weight decay, biases and norms without."""
    lr = config.gpt2_lr * (total_batch_tokens / config.lr_reference_batch) ** 0.5
    decayed = [p for p in model.parameters() if p.dim() >= 2]
    plain = [p for p in model.parameters() if p.dim() < 2]
    return [
        {
            "kind": "adamw",
            "params": params,
            "lr": lr,
            "betas": config.gpt2_betas,
            "eps": config.gpt2_eps,
            "weight_decay": weight_decay,
            "is_decay_scheduled": False,  # GPT-2 keeps its weight decay constant
        }
        for params, weight_decay in ((decayed, config.gpt2_weight_decay), (plain, 0.0))
    ]


def build_optimizer(model: GPT2, config: OptimConfig, total_batch_tokens: int) -> MuonAdamW:
    """AdamW only (MuonAdamW with no Muon group, so the trainer's schedule applies unchanged)."""
    return MuonAdamW(param_groups(model, config, total_batch_tokens))
