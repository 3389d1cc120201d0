"""DDP on CPU: two gloo processes must train exactly like one process on the same global batch.

One ``torch.multiprocessing.spawn`` of two ranks (module fixture, so the ~3 s process start is paid
once) does two things per rank: two optimizer steps of a DistributedDataParallel GPT on its half
of a fixed global batch, and a short real ``train()`` run on the prepared corpus. Rank results are
written to files the tests read.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import replace

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

from nanochat import device as dev
from nanochat.config import ModelConfig, OptimConfig, TrainConfig, with_overrides
from nanochat.model import GPT
from nanochat.optim import apply_schedule, build_optimizer
from nanochat.train import train, train_step

WORLD = 2
MODEL = ModelConfig(depth=2, aspect_ratio=64, head_dim=32, vocab_size=512, sequence_len=32)
# adam_eps 1e-6 rather than 1e-10: Adam's first step is g / (|g| + eps), so with a tiny eps an
# entry whose gradient is pure rounding noise (~1e-12) still moves by a full LR in a random
# direction, and the DDP and single-process sums round differently.
# fp32 orthogonalization: bf16 rounding would hide whether the all-reduce itself is exact.
OPTIM = replace(OptimConfig(), adam_eps=1e-6, lr_reference_batch=256, muon_ns_dtype="float32")
GLOBAL_BATCH = 4
STEPS = 2


def global_batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(7)
    tokens = torch.randint(
        0, MODEL.vocab_size, (STEPS, GLOBAL_BATCH, MODEL.sequence_len + 1), generator=generator
    )
    return [(t[:, :-1], t[:, 1:]) for t in tokens]


def run_steps(model, batches, is_ddp: bool) -> None:
    raw = model.module if is_ddp else model
    optimizer = build_optimizer(raw, OPTIM, total_batch_tokens=GLOBAL_BATCH * MODEL.sequence_len)
    amp = dev.autocast(torch.device("cpu"), torch.float32)
    for step, batch in enumerate(batches):
        apply_schedule(optimizer, step, step / 10, OPTIM)
        train_step(model, optimizer, iter([batch]), 1, amp, is_ddp)


def flat_params(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _worker(rank: int, port: int, out_dir: str, train_cfg: TrainConfig) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(WORLD)
    )
    os.environ["LOCAL_RANK"] = str(rank)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        torch.manual_seed(0)
        model = DistributedDataParallel(GPT.build(MODEL, "cpu"))
        half = GLOBAL_BATCH // WORLD
        mine = [
            (x[rank * half : (rank + 1) * half], y[rank * half : (rank + 1) * half])
            for x, y in global_batches()
        ]
        run_steps(model, mine, is_ddp=True)
        torch.save(flat_params(model.module), os.path.join(out_dir, f"steps_rank{rank}.pt"))
        budgeted = replace(train_cfg, num_steps=-1, time_budget_s=0.3)
        for name, cfg in (("steps", train_cfg), ("budget", budgeted)):
            summary = train(cfg, dist_=dev.DistInfo(rank, rank, WORLD))
            with open(os.path.join(out_dir, f"summary_{name}_rank{rank}.json"), "w") as handle:
                json.dump(summary, handle)
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ddp_results(prepared_data, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("ddp")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in prepared_data.env.items():
            patch.setenv(key, value)
        train_cfg = with_overrides(
            TrainConfig(), depth=2, sequence_len=64, vocab_size=512, device_batch_size=2, num_steps=3,
            eval_tokens=256, lr_reference_batch=256, device="cpu", warmup_steps_excluded=1,
        )  # fmt: skip
        mp.spawn(_worker, args=(free_port(), str(out_dir), train_cfg), nprocs=WORLD, join=True)
    return out_dir


def test_two_gloo_ranks_match_one_process_on_the_same_global_batch(ddp_results):
    torch.manual_seed(0)
    single = GPT.build(MODEL, "cpu")
    run_steps(single, global_batches(), is_ddp=False)
    ddp = torch.load(ddp_results / "steps_rank0.pt", weights_only=True)
    # The all-reduced mean of two half-batch gradients equals the full-batch gradient up to fp32
    # summation order (~1e-7 relative), and almost every entry agrees to 2e-4 after two steps
    # (block matrices ~1e-6; the embedding's Adam step, LR ~0.5, magnifies rounding to ~6e-5).
    # A handful of entries may differ more: NorMuon rescales each neuron's row to a common RMS, so
    # a row whose gradient is itself rounding noise (an inactive ReLU^2 unit) gets a full-size step
    # in a noise-dependent direction; that is bounded by the Muon step size (~0.02). Stepping on
    # one rank's half batch alone (no all-reduce) differs by up to 1.7 in 434K entries.
    diff = (ddp - flat_params(single)).abs()
    assert (diff > 2e-4).sum().item() <= 10
    assert diff.max().item() < 0.05


def test_ddp_ranks_hold_identical_parameters_after_stepping(ddp_results):
    rank0 = torch.load(ddp_results / "steps_rank0.pt", weights_only=True)
    rank1 = torch.load(ddp_results / "steps_rank1.pt", weights_only=True)
    assert torch.equal(rank0, rank1)


def test_train_under_two_ranks_agrees_on_val_bpb_and_counts_global_tokens(ddp_results):
    summaries = [
        json.loads((ddp_results / f"summary_steps_rank{r}.json").read_text()) for r in range(WORLD)
    ]
    assert (
        summaries[0]["val_bpb"] == summaries[1]["val_bpb"]
    )  # all-reduced: every rank reports the same
    assert summaries[0]["num_steps"] == 3
    assert summaries[0]["total_tokens_M"] == pytest.approx(3 * 2 * 64 * WORLD / 1e6)
    assert (
        summaries[0]["train_losses"] != summaries[1]["train_losses"]
    )  # ranks read different documents


def test_time_budgeted_ddp_ranks_stop_at_the_same_step(ddp_results):
    summaries = [
        json.loads((ddp_results / f"summary_budget_rank{r}.json").read_text()) for r in range(WORLD)
    ]
    # Each rank times its own steps; they stop on the slowest rank's clock, so neither waits in
    # an all-reduce the other never joins (the spawn would hang rather than fail otherwise).
    assert summaries[0]["num_steps"] == summaries[1]["num_steps"] >= 2
    assert max(s["training_seconds"] for s in summaries) >= 0.3
