"""Tests for the Muon + AdamW optimizer, its parameter groups and the LR / momentum / decay schedules."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from nanochat.config import ModelConfig, OptimConfig
from nanochat.model import GPT
from nanochat.optim import (
    MuonAdamW,
    apply_schedule,
    build_optimizer,
    lr_multiplier,
    muon_momentum,
    orthogonalize,
    weight_decay_multiplier,
)

TINY = ModelConfig(depth=2, aspect_ratio=64, head_dim=32, vocab_size=100, sequence_len=16)


@pytest.mark.parametrize("shape", [(64, 256), (256, 64), (3, 128, 128)])
def test_orthogonalized_matrices_have_singular_values_near_one(shape):
    torch.manual_seed(0)
    g = torch.randn(*shape)
    if len(shape) == 3:
        # Square Gaussian matrices have near-zero singular values that 5 iterations cannot lift;
        # condition them the way momentum-averaged gradients usually are (spectrum within 1e-2 of max).
        u, _, vh = torch.linalg.svd(g)
        g = u @ torch.diag_embed(torch.logspace(0, -2, shape[-1]).expand(shape[0], -1)) @ vh
    s = torch.linalg.svdvals(orthogonalize(g, 5))
    # 5 Polar-Express steps land singular values in about [0.87, 1.14] (the polynomials trade exactness
    # for speed; Muon only needs the update's spectrum flattened), so allow [0.8, 1.2].
    assert s.min() > 0.8 and s.max() < 1.2


def test_orthogonalization_keeps_the_singular_vectors():
    torch.manual_seed(0)
    g = torch.randn(32, 96)
    u, _, vh = torch.linalg.svd(g, full_matrices=False)
    polar = u @ vh
    # Relative error of the approximate polar factor; singular values within +-0.15 of 1 bound it by ~0.15.
    assert (orthogonalize(g, 5) - polar).norm() / polar.norm() < 0.15


def test_optimizer_groups_cover_every_parameter_exactly_once_with_the_right_kind():
    model = GPT.build(TINY, "cpu")
    optimizer = build_optimizer(model, OptimConfig(), total_batch_tokens=2**19)
    seen = [id(p) for group in optimizer.param_groups for p in group["params"]]
    assert sorted(seen) == sorted(id(p) for p in model.parameters())
    kinds = {id(p): group["kind"] for group in optimizer.param_groups for p in group["params"]}
    assert all(kinds[id(p)] == "muon" for p in model.blocks.parameters())
    adamw = [model.wte.weight, model.lm_head.weight, model.resid_lambdas, model.x0_lambdas]
    adamw += list(model.value_embeds.parameters())
    assert all(kinds[id(p)] == "adamw" for p in adamw)


def test_muon_groups_hold_one_shape_each():
    model = GPT.build(TINY, "cpu")
    optimizer = build_optimizer(model, OptimConfig(), total_batch_tokens=2**19)
    for group in optimizer.param_groups:
        if group["kind"] == "muon":
            assert len({tuple(p.shape) for p in group["params"]}) == 1


def test_learning_rates_scale_with_batch_and_width():
    model = GPT.build(TINY, "cpu")
    config = OptimConfig(lr_reference_batch=4096, lr_reference_dim=512)
    groups = build_optimizer(model, config, total_batch_tokens=1024).param_groups
    batch_scale = 0.5  # sqrt(1024 / 4096)
    width_scale = 2.0  # (128 / 512) ** -0.5
    muon = next(g for g in groups if g["kind"] == "muon")
    wte = next(g for g in groups if g["params"][0] is model.wte.weight)
    resid = next(g for g in groups if g["params"][0] is model.resid_lambdas)
    assert muon["lr"] == pytest.approx(config.matrix_lr * batch_scale)
    assert wte["lr"] == pytest.approx(config.embedding_lr * width_scale * batch_scale)
    assert resid["lr"] == pytest.approx(config.scalar_lr * config.resid_lr_frac * batch_scale)


def test_adamw_groups_match_torch_adamw():
    torch.manual_seed(0)
    p_ours = torch.nn.Parameter(torch.randn(8, 4))
    p_ref = torch.nn.Parameter(p_ours.detach().clone())
    ours = MuonAdamW(
        [
            {
                "kind": "adamw",
                "params": [p_ours],
                "lr": 0.01,
                "betas": (0.8, 0.95),
                "eps": 1e-8,
                "weight_decay": 0.1,
            }
        ]
    )
    ref = torch.optim.AdamW([p_ref], lr=0.01, betas=(0.8, 0.95), eps=1e-8, weight_decay=0.1)
    for _ in range(5):
        grad = torch.randn(8, 4)
        p_ours.grad, p_ref.grad = grad.clone(), grad.clone()
        ours.step()
        ref.step()
    # Same math, different fp32 operation order: agreement to 1e-6.
    torch.testing.assert_close(p_ours, p_ref, atol=1e-6, rtol=1e-6)


def test_muon_step_size_follows_the_shape_aware_lr():
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.zeros(64, 16))
    group = {
        "kind": "muon",
        "params": [p],
        "lr": 0.01,
        "momentum": 0.0,
        "beta2": 0.0,
        "ns_steps": 5,
        "ns_dtype": "bfloat16",
        "weight_decay": 0.0,
    }
    optimizer = MuonAdamW([group])
    p.grad = torch.randn(64, 16)
    optimizer.step()
    # Update = -lr * sqrt(64/16) * O with O near-orthogonal: Frobenius norm ~ 0.02 * sqrt(16) = 0.08.
    assert p.norm().item() == pytest.approx(0.08, rel=0.15)


def test_cautious_weight_decay_only_touches_entries_moving_toward_zero():
    p = torch.nn.Parameter(torch.tensor([[1.0, 1.0], [-1.0, -1.0]]))
    group = {
        "kind": "muon",
        "params": [p],
        "lr": 0.1,
        "momentum": 0.0,
        "beta2": 0.0,
        "ns_steps": 5,
        "ns_dtype": "bfloat16",
        "weight_decay": 0.5,
    }
    optimizer = MuonAdamW([group])
    p.grad = torch.tensor([[1.0, -1.0], [1.0, -1.0]])
    before = p.detach().clone()
    optimizer.step()
    no_decay = MuonAdamW(
        [dict(group, params=[q := torch.nn.Parameter(before.clone())], weight_decay=0.0)]
    )
    q.grad = p.grad.clone()
    no_decay.step()
    agrees = p.grad * before > 0  # the step shrinks |p| there, so decay applies there only
    assert torch.all((p - q)[~agrees] == 0)
    assert torch.all((p - q)[agrees].abs() > 0)


def test_lr_schedule_warms_up_holds_then_decays_to_the_final_fraction():
    config = OptimConfig(warmup_steps=4, warmdown_ratio=0.5, final_lr_frac=0.1)
    assert lr_multiplier(0, 0.0, config) == pytest.approx(0.25)
    assert lr_multiplier(3, 0.03, config) == pytest.approx(1.0)
    assert lr_multiplier(10, 0.4, config) == pytest.approx(1.0)
    assert lr_multiplier(75, 0.75, config) == pytest.approx(0.55)
    assert lr_multiplier(100, 1.0, config) == pytest.approx(0.1)


def test_momentum_warms_up_linearly_then_holds():
    config = OptimConfig(
        muon_momentum_start=0.85, muon_momentum_end=0.95, muon_momentum_warmup_steps=100
    )
    assert [muon_momentum(s, config) for s in (0, 50, 100, 500)] == pytest.approx(
        [0.85, 0.90, 0.95, 0.95]
    )


def test_momentum_warms_down_over_the_final_fraction_when_asked():
    config = OptimConfig(
        muon_momentum_start=0.85,
        muon_momentum_end=0.95,
        muon_momentum_warmup_steps=10,
        muon_momentum_warmdown_ratio=0.2,
    )
    values = [muon_momentum(500, config, p) for p in (0.5, 0.8, 0.9, 1.0)]
    assert values == pytest.approx([0.95, 0.95, 0.90, 0.85])


def test_weight_decay_falls_linearly_to_zero():
    assert [weight_decay_multiplier(p) for p in (0.0, 0.25, 1.0, 1.5)] == pytest.approx(
        [1.0, 0.75, 0.0, 0.0]
    )


def test_apply_schedule_sets_every_group_from_its_initial_values():
    model = GPT.build(TINY, "cpu")
    config = replace(OptimConfig(), warmdown_ratio=1.0, muon_momentum_warmup_steps=10)
    optimizer = build_optimizer(model, config, total_batch_tokens=2**19)
    lrm = apply_schedule(optimizer, step=10, progress=0.5, config=config)
    assert lrm == pytest.approx(0.5)
    for group in optimizer.param_groups:
        assert group["lr"] == pytest.approx(0.5 * group["initial_lr"])
        assert group["weight_decay"] == pytest.approx(0.5 * group["initial_weight_decay"])
        if group["kind"] == "muon":
            assert group["momentum"] == pytest.approx(config.muon_momentum_end)
