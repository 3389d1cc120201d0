"""Tests for the GPT: shapes, causality, windows, attention backends, init, accounting, generation."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from nanochat import attention
from nanochat import model as model_module
from nanochat.config import ModelConfig
from nanochat.model import GPT, check_model_config, has_value_embed, layer_windows

# depth 3 so the pattern "SL" tiles to S, L, L; GQA with 2 query heads per KV head.
TINY = ModelConfig(
    depth=3,
    aspect_ratio=42,  # 126 rounds up to model_dim 128: 4 heads of 32
    head_dim=32,
    n_kv_head_ratio=2,
    vocab_size=100,
    sequence_len=32,
    window_pattern="SL",
    short_window_frac=0.25,
)


def build(config: ModelConfig = TINY, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    model = GPT.build(config, "cpu")
    # Perturb the zero-initialised projections and gates so every path carries signal.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def reference_attention(q, k, v, window):
    """Plain softmax attention with an explicit loop-free mask; q (B,T,H,D), k/v (B,T,Hkv,D)."""
    rep = q.size(2) // k.size(2)
    k, v = k.repeat_interleave(rep, dim=2), v.repeat_interleave(rep, dim=2)
    scores = torch.einsum("bthd,bshd->bhts", q, k) / math.sqrt(q.size(-1))
    t = q.size(1)
    i = torch.arange(t)[:, None]
    j = torch.arange(t)[None, :]
    allowed = (j <= i) & (
        (i - j < window) if window is not None else torch.ones_like(i - j, dtype=torch.bool)
    )
    scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.einsum("bhts,bshd->bthd", scores.softmax(dim=-1), v)


def test_logits_are_fp32_with_unpadded_vocab_columns():
    model = build()
    logits = model(torch.randint(0, 100, (2, 32)))
    assert TINY.padded_vocab_size == 128
    assert logits.shape == (2, 32, 100)
    assert logits.dtype == torch.float32


def test_logits_stay_inside_the_softcap():
    model = build()
    with torch.no_grad():
        model.lm_head.weight.mul_(1000.0)
    logits = model(torch.randint(0, 100, (1, 32)))
    assert logits.abs().max() <= TINY.logit_softcap


def test_loss_is_mean_cross_entropy_over_targets_not_minus_one():
    model = build()
    idx = torch.randint(0, 100, (2, 32))
    targets = torch.randint(0, 100, (2, 32))
    targets[:, :5] = -1
    logits = model(idx)
    expected = F.cross_entropy(logits[:, 5:].reshape(-1, 100), targets[:, 5:].reshape(-1))
    torch.testing.assert_close(model(idx, targets), expected)


def test_changing_future_tokens_leaves_earlier_logits_unchanged():
    model = build()
    idx = torch.randint(0, 100, (2, 32))
    changed = idx.clone()
    changed[:, 20:] = torch.randint(0, 100, (2, 12))
    before, after = model(idx), model(changed)
    # Exact equality: earlier positions never read later keys, values or value embeddings.
    assert torch.equal(before[:, :20], after[:, :20])
    assert not torch.equal(before[:, 20:], after[:, 20:])


def test_window_pattern_tiles_over_depth_with_last_layer_long():
    config = replace(TINY, depth=5, window_pattern="SSL", sequence_len=64, short_window_frac=0.5)
    assert layer_windows(config) == [32, 32, None, 32, None]
    assert layer_windows(replace(config, window_pattern="S")) == [32, 32, 32, 32, None]


def test_value_embeddings_sit_on_alternating_layers_ending_with_the_last():
    assert [has_value_embed(i, replace(TINY, depth=4)) for i in range(4)] == [
        False,
        True,
        False,
        True,
    ]
    assert [has_value_embed(i, replace(TINY, depth=3)) for i in range(3)] == [True, False, True]
    assert sorted(build().value_embeds.keys()) == ["0", "2"]


def test_window_mask_allows_exactly_the_last_window_keys():
    mask = attention.window_mask(5, 5, 2, torch.device("cpu"))
    expected = torch.tensor(
        [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 1, 1]],
        dtype=torch.bool,
    )
    assert torch.equal(mask, expected)


def test_window_mask_for_cached_queries_aligns_them_to_the_last_positions():
    mask = attention.window_mask(2, 5, None, torch.device("cpu"))
    assert torch.equal(mask, torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.bool))


@pytest.mark.parametrize("window", [None, 32, 7, 1])
def test_sdpa_attention_matches_a_plain_softmax_reference(window):
    torch.manual_seed(0)
    q = torch.randn(2, 32, 4, 16)
    k, v = torch.randn(2, 32, 2, 16), torch.randn(2, 32, 2, 16)
    # fp32 kernels sum in different orders; 1e-5 covers that rounding, not a semantic difference.
    torch.testing.assert_close(
        attention.sdpa_attention(q, k, v, window),
        reference_attention(q, k, v, window),
        atol=1e-5,
        rtol=1e-5,
    )


def test_sdpa_uses_the_is_causal_fast_path_only_when_the_window_covers_the_context():
    assert not attention.needs_mask(32, 32, None)
    assert not attention.needs_mask(32, 32, 32)
    assert attention.needs_mask(32, 32, 8)
    assert not attention.needs_mask(1, 40, None)
    assert attention.needs_mask(1, 40, 8)


@pytest.mark.skipif(
    attention.FLASH_ATTN_FUNC is None or not torch.cuda.is_available(),
    reason="flash-attention needs CUDA and flash_attn(_interface) installed; the SDPA path is tested above",
)
@pytest.mark.parametrize("window", [None, 64])
def test_flash_attention_agrees_with_sdpa(window):
    torch.manual_seed(0)
    q = torch.randn(2, 256, 4, 64, device="cuda", dtype=torch.bfloat16)
    k, v = (torch.randn(2, 256, 2, 64, device="cuda", dtype=torch.bfloat16) for _ in range(2))
    # bf16 has 8 mantissa bits; 2e-2 absorbs the differing accumulation orders of the two kernels.
    torch.testing.assert_close(
        attention.flash_attention(q, k, v, window),
        attention.sdpa_attention(q, k, v, window),
        atol=2e-2,
        rtol=2e-2,
    )


def test_meta_build_materialises_every_tensor_with_the_init_scheme():
    model = GPT.build(TINY, "cpu")
    assert all(not t.is_meta for t in list(model.parameters()) + list(model.buffers()))
    for block in model.blocks:
        assert torch.count_nonzero(block.attn.c_proj.weight) == 0
        assert torch.count_nonzero(block.mlp.c_proj.weight) == 0
    assert torch.count_nonzero(model.blocks[0].attn.ve_gate.weight) == 0
    assert torch.equal(model.resid_lambdas, torch.ones(3))
    assert torch.equal(model.x0_lambdas, torch.zeros(3))
    # Sample std of 128 x 128 normal draws is within a few percent of 1.
    assert abs(model.wte.weight.std().item() - 1.0) < 0.05
    assert model.lm_head.weight.std().item() < 2 * TINY.lm_head_init_std
    expected_std = TINY.model_dim**-0.5
    assert abs(model.blocks[0].mlp.c_fc.weight.std().item() - expected_std) < 0.05 * expected_std


def test_rotary_table_is_computed_at_init():
    model = GPT.build(TINY, "cpu")
    table = attention.rotary_table(
        TINY.sequence_len, TINY.head_dim, TINY.rope_base, torch.device("cpu")
    )
    assert torch.equal(model.rotary, table)


def test_rotary_attention_scores_depend_only_on_relative_position():
    torch.manual_seed(0)
    table = attention.rotary_table(16, 8, 10000.0, torch.device("cpu"))
    q, k = torch.randn(1, 1, 1, 8).expand(1, 16, 1, 8), torch.randn(1, 1, 1, 8).expand(1, 16, 1, 8)
    rq, rk = attention.apply_rotary(q, table)[0, :, 0], attention.apply_rotary(k, table)[0, :, 0]
    # The same pair of vectors 3 positions apart scores the same wherever it sits (fp32 rounding only).
    torch.testing.assert_close(rq[5] @ rk[2], rq[12] @ rk[9], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(rq[5] @ rk[2], rq[5] @ rk[4])


def test_complex_and_real_rotary_forms_agree():
    torch.manual_seed(0)
    table = attention.rotary_table(16, 8, 10000.0, torch.device("cpu"))
    x = torch.randn(2, 16, 3, 8)
    # The real form is what torch.compile traces; fp32 rounding differs by an ulp or two.
    torch.testing.assert_close(attention.apply_rotary(x, table), attention.rotate_real(x, table))


def test_rope_base_changes_the_rotary_table():
    a = attention.rotary_table(8, 16, 10000.0, torch.device("cpu"))
    b = attention.rotary_table(8, 16, 500.0, torch.device("cpu"))
    assert not torch.equal(a, b)


def test_params_by_group_partition_every_parameter():
    model = build()
    counts = model.num_params_by_group()
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    assert counts["wte"] == 128 * TINY.model_dim
    assert counts["scalars"] == 2 * TINY.depth


def test_flops_per_token_is_six_matmul_params_plus_windowed_attention():
    model = build()
    counts = model.num_params_by_group()
    effective = 8 + 32 + 32  # windows S(8), L, L at T = 32
    expected = (
        6 * (counts["matrices"] + counts["lm_head"]) + 12 * TINY.head_dim * TINY.n_head * effective
    )
    assert model.estimate_flops_per_token() == expected


def test_cached_greedy_generation_matches_recomputing_the_full_context():
    model = build()
    prompt = [1, 5, 9, 3]
    generated = list(model.generate(prompt, 10, temperature=0.0))
    ids = list(prompt)
    for _ in range(10):
        ids.append(int(model(torch.tensor([ids]))[0, -1].argmax()))
    assert generated == ids[len(prompt) :]


def test_sampling_is_reproducible_for_a_seed():
    model = build()
    first = list(model.generate([1, 2], 8, temperature=1.0, top_k=5, seed=3))
    assert first == list(model.generate([1, 2], 8, temperature=1.0, top_k=5, seed=3))
    assert all(0 <= t < TINY.vocab_size for t in first)


def test_generation_past_the_context_is_refused():
    with pytest.raises(ValueError, match="exceeds sequence_len 32"):
        list(build().generate([1] * 30, 5))


@pytest.mark.parametrize(
    ("change", "flag"),
    [
        ({"window_pattern": "SXL"}, "--window-pattern"),
        ({"head_dim": 31}, "--head-dim"),
        ({"depth": 0}, "--depth"),
    ],
)
def test_bad_model_config_names_the_flag(change, flag):
    with pytest.raises(ValueError, match=flag):
        check_model_config(replace(TINY, **change))


def test_bf16_autocast_still_returns_fp32_logits_and_a_finite_loss():
    model = build()
    idx = torch.randint(0, 100, (2, 32))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits, loss = model(idx), model(idx, idx)
    assert logits.dtype == torch.float32
    assert torch.isfinite(loss)


def test_custom_rmsnorm_matches_torch_values_and_gradients():
    torch.manual_seed(0)
    x = torch.randn(4, 8, 64, requires_grad=True)
    g = torch.randn(4, 8, 64)
    ours = model_module.norm(x)
    (grad_ours,) = torch.autograd.grad(ours, x, g)
    ref = F.rms_norm(x, (64,), eps=torch.finfo(torch.float32).eps)
    (grad_ref,) = torch.autograd.grad(ref, x, g)
    # Same formula, different fp32 reduction order: 1e-5.
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grad_ours, grad_ref, atol=1e-5, rtol=1e-5)


def test_residual_mix_gradients_match_plain_autograd():
    torch.manual_seed(0)
    x, x0 = torch.randn(2, 8, 16, requires_grad=True), torch.randn(2, 8, 16, requires_grad=True)
    a, b = torch.tensor(0.7, requires_grad=True), torch.tensor(-0.3, requires_grad=True)
    g = torch.randn(2, 8, 16)
    ours = torch.autograd.grad(model_module._ResidualMix.apply(x, x0, a, b), (x, x0, a, b), g)
    ref = torch.autograd.grad(a * x + b * x0, (x, x0, a, b), g)
    for got, want in zip(ours, ref, strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)  # fp32 summation order only


def test_custom_relu_squared_and_softcap_gradients_match_plain_autograd():
    torch.manual_seed(0)
    h = torch.randn(4, 16, requires_grad=True)
    g = torch.randn(4, 16)
    (ours,) = torch.autograd.grad(model_module._ReluSquared.apply(h), h, g)
    (ref,) = torch.autograd.grad(F.relu(h).square(), h, g)
    torch.testing.assert_close(ours, ref)
    z = torch.randn(4, 16) * 30
    z_ours, z_ref = z.clone().requires_grad_(), z.clone().requires_grad_()
    y_ours = model_module._Softcap.apply(z_ours * 1.0, 15.0)  # in place on a non-leaf copy
    (ours,) = torch.autograd.grad(y_ours, z_ours, g)
    y_ref = 15.0 * torch.tanh(z_ref)  # the model divides its input by the cap before the head
    (ref,) = torch.autograd.grad(y_ref, z_ref, g)
    torch.testing.assert_close(y_ours, y_ref)
    torch.testing.assert_close(ours, ref)
