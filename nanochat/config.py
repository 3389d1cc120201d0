"""Every hyperparameter of the trainer, as frozen dataclasses with derived sizes as properties.

To vary a config, use ``dataclasses.replace``. ``python -m nanochat.train`` maps its flags onto
these fields; nothing else in nanochat writes a tunable number inline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def base_dir() -> Path:
    """Cache root for corpus, tokenizer and shards (override with NANOCHAT_BASE_DIR)."""
    return Path(os.environ.get("NANOCHAT_BASE_DIR", Path.home() / ".cache" / "nanochat"))


@dataclass(frozen=True)
class ModelConfig:
    depth: int = 4
    aspect_ratio: int = 64  # model_dim = depth * aspect_ratio, rounded up to head_dim
    head_dim: int = 64
    n_kv_head_ratio: int = 1  # GQA: query heads per key/value head
    vocab_size: int = 4096
    sequence_len: int = 256
    rope_base: float = 10000.0
    qk_norm_scale: float = 1.0  # multiplier applied to q and k after their RMSNorm
    logit_softcap: float = 15.0  # tanh softcap on fp32 logits; <= 0 disables
    window_pattern: str = "L"  # per-layer S(hort)/L(ong), tiled over depth; last layer always L
    short_window_frac: float = 0.5  # short window = this fraction of sequence_len
    value_embeds: bool = True  # value embeddings on alternating layers (last layer always)
    vocab_multiple: int = 64  # pad the vocabulary to a multiple of this
    ve_gate_channels: int = 32  # leading channels of x that feed the per-head value-embedding gate
    lm_head_init_std: float = 0.001  # small head init so the first logits are near uniform
    # nanochat (the GPT in model.py) or gpt2 (the plain baseline in gpt2_baseline.py, whose width
    # is chosen to match this config's nanochat parameter count)
    model_family: str = "nanochat"
    gpt2_tie_embeddings: bool = True  # GPT-2 shares the token embedding with the head
    gpt2_init_std: float = 0.02  # N(0, std) init; residual projections get std / sqrt(2 x depth)
    gpt2_layernorm_eps: float = 1e-5
    gpt2_head_dim_multiple: int = 8  # baseline head_dim is a multiple of this (kernel-friendly)

    @property
    def model_dim(self) -> int:
        raw = self.depth * self.aspect_ratio
        return ((raw + self.head_dim - 1) // self.head_dim) * self.head_dim

    @property
    def n_head(self) -> int:
        return self.model_dim // self.head_dim

    @property
    def n_kv_head(self) -> int:
        return max(1, self.n_head // self.n_kv_head_ratio)

    @property
    def padded_vocab_size(self) -> int:
        m = self.vocab_multiple
        return ((self.vocab_size + m - 1) // m) * m


@dataclass(frozen=True)
class OptimConfig:
    embedding_lr: float = 0.3
    unembedding_lr: float = 0.004
    matrix_lr: float = 0.02
    scalar_lr: float = 0.5
    adam_betas: tuple[float, float] = (0.8, 0.95)
    adam_eps: float = 1e-10
    adam_weight_decay: float = 0.0  # decoupled AdamW decay for embeddings, head and scalars
    resid_lr_frac: float = 0.01  # resid_lambdas LR = scalar_lr x this; x0_lambdas use scalar_lr
    weight_decay: float = 0.2  # Muon (cautious) weight decay, scheduled to zero over training
    muon_momentum_start: float = 0.85
    muon_momentum_end: float = 0.95
    muon_momentum_warmup_steps: int = 300
    muon_momentum_warmdown_ratio: float = 0.0  # last fraction of training: momentum back to start
    muon_ns_steps: int = 5
    muon_ns_dtype: str = (
        "bfloat16"  # orthogonalization dtype: bfloat16 (2x faster on CPU too) or float32
    )
    muon_beta2: float = 0.95  # NorMuon second-moment EMA
    lr_reference_dim: int = 768  # AdamW LRs scale by (model_dim / this) ** -0.5
    lr_reference_batch: int = 2**19  # LRs scale by sqrt(total_batch_tokens / this)
    warmup_steps: int = 0
    warmdown_ratio: float = 0.5  # fraction of training spent decaying to final_lr_frac
    final_lr_frac: float = 0.0
    # The gpt2 baseline trains with AdamW alone: one LR for every parameter (scaled with the batch
    # like the LRs above), constant weight decay on matrices and embeddings, none on biases/norms.
    gpt2_lr: float = 6e-4
    gpt2_betas: tuple[float, float] = (0.9, 0.95)
    gpt2_eps: float = 1e-8
    gpt2_weight_decay: float = 0.1
    # replaces warmup_steps for the baseline (the rest of the schedule is shared); without it AdamW
    # lingers on the unigram plateau (CPU sweep in docs/benchmarks-trainer.md)
    gpt2_warmup_steps: int = 100


@dataclass(frozen=True)
class DataConfig:
    # directory of text files; default $NANOCHAT_CORPUS_DIR, else (empty) the Python docs' .rst
    # sources from Debian's python3.11-doc
    corpus_dir: str = field(default_factory=lambda: os.environ.get("NANOCHAT_CORPUS_DIR", ""))
    parquet_dir: str = ""  # FineWeb/ClimbMix-style shards (text column; last shard = validation)
    tokens_per_shard: int = 2**20
    val_fraction: float = 0.05  # fraction of corpus documents held out for validation
    split_seed: int = 1337
    max_doc_chars: int = 1500  # text corpora: documents are runs of sections up to this size
    tokenizer_max_chars: int = 8_000_000  # cap on the train text the tokenizer learns from
    loader_buffer_docs: int = 1000  # documents buffered for best-fit packing


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    device_batch_size: int = 8  # sequences per device per micro-step
    total_batch_tokens: int = -1  # -1: one micro-step per device (no accumulation)
    num_steps: int = -1  # explicit horizon; -1 = derive from the budget or the ratio
    time_budget_s: float = -1.0  # fixed wall-clock training budget; -1 = disabled
    target_param_data_ratio: float = 10.0  # tokens:params when neither steps nor budget are set
    eval_every: int = 250  # steps between val evaluations; -1 = only at the end; 0 = never
    # (0: the summary's val_bpb is nan; for runs scored apart, e.g. by `harness research`)
    eval_tokens: int = 2**16  # validation tokens per evaluation
    log_every: int = 10  # steps between host-synchronising log lines
    checkpoint_every: int = -1  # -1 = save only at the end (if a checkpoint dir is given)
    checkpoint_dir: str = ""  # checkpoints go to <checkpoint_dir>/step_NNNNNN/
    resume: str = ""  # checkpoint to continue from: a step_NNNNNN dir, or a parent (latest step)
    device: str = ""  # empty: autodetect (cuda, then mps, then cpu)
    dtype: str = ""  # empty: bf16 on CUDA, fp32 elsewhere
    compile: bool = False
    seed: int = 42
    max_loss: float = 20.0  # fast-fail when the loss exceeds this or is not finite
    warmup_steps_excluded: int = 10  # first steps left out of total_training_time
    # Time to target: stop at the first scheduled evaluation that reaches the target.
    target_val_bpb: float = -1.0  # stop once val_bpb <= this; -1 = no target
    target_core: float = -1.0  # stop once CORE >= this (needs core_bundle); -1 = no target
    core_bundle: str = ""  # CORE bundle directory (nanochat.core_eval); empty = no CORE evaluation
    core_every: int = -1  # steps between CORE evaluations; -1 = at every val evaluation
    core_max_per_task: int = -1  # CORE items scored per task; -1 = all
    curve_jsonl: str = ""  # JSON line per logged step and evaluation, flushed (nanochat.curve)


class NanochatError(Exception):
    """A user-facing error: entry points print it as one line and exit with status 2."""


def with_overrides(cfg: TrainConfig, **changes) -> TrainConfig:
    """``dataclasses.replace`` that also reaches into the nested model/optim/data configs by field name."""
    nested = {name: getattr(cfg, name) for name in ("model", "optim", "data")}
    top = {}
    for key, value in changes.items():
        owner = next((n for n, sub in nested.items() if key in sub.__dataclass_fields__), None)
        if owner is None:
            top[key] = value
        else:
            nested[owner] = replace(nested[owner], **{key: value})
    return replace(cfg, **nested, **top)
