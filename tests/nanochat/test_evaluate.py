"""Tests for validation bits-per-byte against hand-computed values."""

from __future__ import annotations

import math
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from nanochat.config import DataConfig, NanochatError
from nanochat.evaluate import evaluate, evaluate_bpb, val_bpb

# Vocabulary of 5: ids 0-3 are 1-, 2-, 3- and 1-byte tokens, id 4 is a special token (0 bytes).
TOKEN_BYTES = torch.tensor([1, 2, 3, 1, 0])
# Row i: the logits the stand-in model emits after reading token i (a bigram table).
LOGIT_TABLE = torch.tensor(
    [
        [2.0, 1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 3.0, 0.0, 0.0],
        [1.0, 1.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [0.5, 0.0, 0.0, 2.0, 0.0],
    ]
)


class BigramLogits(torch.nn.Module):
    """Stand-in model: logits = LOGIT_TABLE[inputs]; records whether it ran in eval mode."""

    def __init__(self):
        super().__init__()
        self.register_buffer("table", LOGIT_TABLE.clone())
        self.modes_seen: list[bool] = []

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        self.modes_seen.append(self.training)
        return self.table[inputs]


def nats(prev: int, target: int) -> float:
    row = LOGIT_TABLE[prev].tolist()
    return math.log(sum(math.exp(x) for x in row)) - row[target]


def test_bpb_matches_a_hand_computed_case_with_multibyte_and_special_tokens():
    inputs = torch.tensor([[4, 0, 1, 2], [4, 3, 2, 0]])
    targets = torch.tensor([[0, 1, 2, 4], [3, 2, 0, -1]])
    # Counted targets: 0,1,2 (1+2+3 bytes) in row 0; 3,2,0 (1+3+1 bytes) in row 1. The special
    # target 4 (0 bytes) and the ignored -1 count neither nats nor bytes.
    pairs = [(4, 0), (0, 1), (1, 2), (4, 3), (3, 2), (2, 0)]
    expected = sum(nats(p, t) for p, t in pairs) / (math.log(2) * 11)
    got = evaluate_bpb(BigramLogits(), [(inputs, targets)], TOKEN_BYTES, max_steps=1)
    assert got == pytest.approx(expected, rel=1e-6)  # fp32 logsumexp vs float64 math


def test_secondary_metric_is_mean_nats_over_counted_targets():
    inputs, targets = torch.tensor([[0, 1]]), torch.tensor([[1, 2]])
    result = evaluate(BigramLogits(), [(inputs, targets)], TOKEN_BYTES, max_steps=-1)
    assert (result.tokens, result.bytes) == (2, 5)
    assert result.nats_per_token == pytest.approx((nats(0, 1) + nats(1, 2)) / 2, rel=1e-6)


def test_max_steps_limits_the_batches_read():
    good = (torch.tensor([[0]]), torch.tensor([[1]]))
    bad = (torch.tensor([[0]]), torch.tensor([[0]]))
    assert evaluate_bpb(BigramLogits(), [good, bad], TOKEN_BYTES, max_steps=1) == pytest.approx(
        nats(0, 1) / (math.log(2) * 2), rel=1e-6
    )


def test_model_runs_in_eval_mode_without_grad_and_training_mode_is_restored():
    model = BigramLogits().train()
    evaluate_bpb(model, [(torch.tensor([[0, 1]]), torch.tensor([[1, 2]]))], TOKEN_BYTES, 1)
    assert model.modes_seen == [False]
    assert model.training


def test_only_special_targets_is_a_one_line_error():
    with pytest.raises(NanochatError, match="counted no target bytes"):
        evaluate_bpb(BigramLogits(), [(torch.tensor([[0]]), torch.tensor([[4]]))], TOKEN_BYTES, 1)


def test_wrong_logit_shape_names_both_shapes():
    model = torch.nn.Identity()
    with pytest.raises(
        NanochatError, match=r"logits of shape \(1, 2\) for targets of shape \(1, 2\)"
    ):
        evaluate_bpb(model, [(torch.ones(1, 2), torch.tensor([[1, 2]]))], TOKEN_BYTES, 1)


def _ddp_worker(rank: int, world_size: int, port: int, queue) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        rows = [
            (torch.tensor([[4, 0, 1]]), torch.tensor([[0, 1, 2]])),
            (torch.tensor([[3]]), torch.tensor([[2]])),
        ]
        queue.put(evaluate_bpb(BigramLogits(), [rows[rank]], TOKEN_BYTES, max_steps=1))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_ranks_agree_on_the_bpb_of_all_their_batches_combined():
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = 29500 + os.getpid() % 1000
    procs = [ctx.Process(target=_ddp_worker, args=(r, 2, port, queue)) for r in range(2)]
    for proc in procs:
        proc.start()
    values = [queue.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    expected = sum(nats(p, t) for p, t in [(4, 0), (0, 1), (1, 2), (3, 2)]) / (math.log(2) * 9)
    assert values == pytest.approx([expected, expected], rel=1e-6)
    assert all(proc.exitcode == 0 for proc in procs)


def test_val_bpb_of_a_uniform_model_is_log2_vocab_over_bytes_per_token(prepared_env):
    tok = prepared_env.tokenizer

    class Uniform(torch.nn.Module):
        def forward(self, inputs):
            return torch.zeros(*inputs.shape, tok.vocab_size)

    result = val_bpb(
        Uniform(), tok, DataConfig(), batch_size=2, seq_len=64, device="cpu", max_steps=3
    )
    expected = math.log2(tok.vocab_size) * result.tokens / result.bytes
    assert result.bpb == pytest.approx(expected, rel=1e-5)  # fp32 sums of ~400 equal terms
    assert result.tokens > 300
