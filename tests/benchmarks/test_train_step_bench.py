"""Benchmark: CPU training-step throughput of our GPT + Muon/AdamW vs a plain PyTorch GPT + AdamW.

Config (stated in docs/benchmarks-trainer.md): depth 4 (model_dim 256, 4 heads of 64), sequence 256,
micro-batch 8 (2048 tokens), 1 or 4 micro-steps per optimizer step, vocab 4096, fp32 on CPU,
all-long windows. The reported figure is tokens per second (``extra_info["tok_per_s"]``). The plain reference is
the same size written the textbook way: learned positions, LayerNorm, fused QKV nn.Linear,
``F.scaled_dot_product_attention(is_causal=True)``, GELU MLP, untied head, ``torch.optim.AdamW``.
Skipped in the normal run (``--benchmark-skip``); run with ``make bench`` or the command in the doc.
"""

from __future__ import annotations

import statistics
import time

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from nanochat import device as dev
from nanochat.config import ModelConfig, OptimConfig
from nanochat.model import GPT
from nanochat.optim import build_optimizer
from nanochat.train import train_step

CONFIG = ModelConfig(
    depth=4, aspect_ratio=64, head_dim=64, vocab_size=4096, sequence_len=256, window_pattern="L"
)
BATCH = 8
TOKENS_PER_STEP = BATCH * CONFIG.sequence_len  # per micro-step
# 1: one micro-step per optimizer step (Muon's orthogonalization is paid every 2048 tokens);
# 4: gradient accumulation to 8192 tokens per optimizer step, closer to how Muon is used.
MICRO_STEPS = (1, 4)
ROUNDS = 5


class PlainBlock(nn.Module):
    def __init__(self, dim: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.fc = nn.Linear(dim, 4 * dim)
        self.out = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (
            self.qkv(self.ln1(x))
            .view(B, T, 3, self.n_head, C // self.n_head)
            .permute(2, 0, 3, 1, 4)
        )
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class PlainGPT(nn.Module):
    """A textbook GPT-2-style model of the same depth, width and vocabulary."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        dim = config.model_dim
        self.wte = nn.Embedding(config.vocab_size, dim)
        self.wpe = nn.Embedding(config.sequence_len, dim)
        self.blocks = nn.ModuleList([PlainBlock(dim, config.n_head) for _ in range(config.depth)])
        self.ln_f = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, config.vocab_size, bias=False)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1), device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(
        0, CONFIG.vocab_size, (BATCH, CONFIG.sequence_len + 1), generator=generator
    )
    return tokens[:, :-1], tokens[:, 1:]


def _bench(benchmark, model, optimizer, micro_steps: int) -> None:
    batches = [_batch()] * micro_steps
    amp = dev.autocast(torch.device("cpu"), torch.float32)

    def step():
        train_step(model, optimizer, iter(batches), micro_steps, amp, False)

    step()  # allocator and kernel warm-up
    benchmark.pedantic(step, rounds=ROUNDS, iterations=1)
    tok_per_s = micro_steps * TOKENS_PER_STEP / benchmark.stats.stats.median
    benchmark.extra_info["tok_per_s"] = round(tok_per_s)
    assert tok_per_s > 0


def _ours():
    torch.manual_seed(0)
    model = GPT.build(CONFIG, "cpu")
    return model, build_optimizer(model, OptimConfig(), TOKENS_PER_STEP)


def _plain():
    torch.manual_seed(0)
    model = PlainGPT(CONFIG)
    return model, torch.optim.AdamW(model.parameters(), lr=1e-3)


@pytest.mark.parametrize("micro_steps", MICRO_STEPS)
def test_nanochat_gpt_train_step_throughput(benchmark, micro_steps):
    _bench(benchmark, *_ours(), micro_steps)


@pytest.mark.parametrize("micro_steps", MICRO_STEPS)
def test_plain_pytorch_gpt_train_step_throughput(benchmark, micro_steps):
    _bench(benchmark, *_plain(), micro_steps)


@pytest.mark.parametrize("micro_steps", (*MICRO_STEPS, 8))
def test_nanochat_vs_plain_interleaved(benchmark, micro_steps):
    """A/B in one process, alternating rounds, both timed in process CPU seconds.

    On a shared machine the load drifts between separate benchmarks by +-10%; alternating the
    two steps exposes both to the same conditions. The benchmark stats time our step; the plain
    step runs in ``setup`` between our rounds. ``extra_info`` holds both tok/s and their ratio.
    """
    batches = [_batch()] * micro_steps
    amp = dev.autocast(torch.device("cpu"), torch.float32)
    ours, plain = _ours(), _plain()
    seconds: dict[str, list[float]] = {"ours": [], "plain": []}

    def timed(name, model, optimizer):
        start = time.process_time()
        train_step(model, optimizer, iter(batches), micro_steps, amp, False)
        seconds[name].append(time.process_time() - start)

    timed("ours", *ours)
    timed("plain", *plain)  # warm-up rounds, dropped below
    benchmark.pedantic(
        lambda: timed("ours", *ours), setup=lambda: timed("plain", *plain), rounds=ROUNDS
    )
    tokens = micro_steps * TOKENS_PER_STEP
    median = {name: statistics.median(values[1:]) for name, values in seconds.items()}
    benchmark.extra_info.update(
        ours_tok_per_s=round(tokens / median["ours"]),
        plain_tok_per_s=round(tokens / median["plain"]),
        ours_over_plain=round(median["plain"] / median["ours"], 3),
    )
    assert median["ours"] > 0 and median["plain"] > 0
