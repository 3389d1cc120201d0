"""FLOPs-per-token and parameter accounting for the GPT, used for MFU and the run summary.

Training FLOPs per token = 6 x (matmul parameters) + 12 x head_dim x n_head x sum over layers of
the effective window min(window, T). Matmul parameters are everything but the token and value
embeddings (lookups, not matmuls) and the per-layer scalars; the head counts. The attention term is
the usual forward (2 QK^T + 2 AV) x 3 for forward+backward, per key a query sees, without halving
for causality, as in the nanochat and PaLM conventions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nanochat.model import GPT


def params_by_group(model: GPT) -> dict[str, int]:
    """Parameter counts by optimizer-relevant group, plus ``total``."""
    counts = {
        "wte": model.wte.weight.numel(),
        "value_embeds": sum(p.numel() for p in model.value_embeds.parameters()),
        "lm_head": model.lm_head.weight.numel(),
        "matrices": sum(p.numel() for p in model.blocks.parameters()),
        "scalars": model.resid_lambdas.numel() + model.x0_lambdas.numel(),
    }
    counts["total"] = sum(counts.values())
    return counts


def flops_per_token(model: GPT, seq_len: int) -> float:
    """Forward+backward FLOPs per trained token at context length ``seq_len``."""
    counts = params_by_group(model)
    matmul_params = counts["matrices"] + counts["lm_head"]
    config = model.config
    effective = sum(seq_len if w is None else min(w, seq_len) for w in model.windows)
    return 6.0 * matmul_params + 12.0 * config.head_dim * config.n_head * effective
