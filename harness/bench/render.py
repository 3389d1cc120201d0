"""The ``--format text`` reports of ``harness bench step``: one line a topic, figures with units.

Both take the JSON-ready dicts of ``harness.bench.step.bench_step`` and
``harness.bench.compare.compare_step``; ``--format json`` is those dicts as they are.
"""

from __future__ import annotations

SIDES = ("a", "b")


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} MiB"


def render_text(result: dict) -> str:
    """The ``--format text`` report: one block, one topic a line."""
    c, env, w, ms, mem = (
        result["config"], result["environment"], result["warmup"], result["ms_per_step"],
        result["memory"],
    )  # fmt: skip
    micro = c["device_batch_size"] * c["sequence_len"]
    compiled = "compiled" if env["compile"] else "eager"
    first = "" if w["first_step_s"] is None else f" (first {w['first_step_s']:.2f} s)"
    mfu = (
        f"MFU {result['mfu_percent']:.1f}% of {result['peak_flops'] / 1e12:.0f} TFLOP/s"
        if result["mfu_percent"] is not None
        else "MFU - (no bf16 peak known for this device)"
    )
    if mem["max_rss_mb"] is None:
        memory = (
            f"peak memory: allocated {_mb(mem['allocated_mb'])}, reserved {_mb(mem['reserved_mb'])}, "
            f"{mem['alloc_retries']} allocator retries ({mem['source']})"
        )
    else:
        memory = f"peak memory: {_mb(mem['max_rss_mb'])} ({mem['source']})"
    return "\n".join(
        [
            f"bench step: depth {c['depth']}, sequence {c['sequence_len']}, batch "
            f"{c['device_batch_size']} x {c['grad_accum']} micro-steps = {result['tokens_per_step']:,} "
            f"tokens/step ({micro:,} per micro-step), {c['data']} data, "
            f"{result['num_params'] / 1e6:.2f}M params",
            f"environment: {env['device']} ({env['device_name']}), torch {env['torch']}, "
            f"CUDA {env['cuda'] or '-'}, {env['dtype']}, attention {env['attention']}, {compiled}",
            f"warm-up: {w['steps']} steps in {w['seconds']:.2f} s{first}, not in the figures below",
            f"ms/step: median {ms['median']:.2f} (IQR {ms['iqr']:.2f}, min {ms['min']:.2f}, "
            f"max {ms['max']:.2f}) over {len(result['rounds_ms_per_step'])} rounds x "
            f"{c['steps_per_round']} steps",
            f"throughput: {result['tok_per_s']:,.0f} tok/s | {result['tflops_per_s']:.3g} TFLOP/s | {mfu}",
            memory,
            f"loader share: {100 * result['loader_share']:.1f}% of step time",
        ]
    )


def render_compare_text(result: dict) -> str:
    """The ``--format text`` report of a comparison."""
    ratio = result["ratio"]
    lines = [f"bench step --compare {result['ref']}: B/A in ms/step, rounds interleaved A/B"]
    for side in SIDES:
        r = result[side]
        ms = r["ms_per_step"]
        lines.append(
            f"{side.upper()} {r['label']}: median {ms['median']:.2f} ms/step (IQR {ms['iqr']:.2f}), "
            f"{r['tok_per_s']:,.0f} tok/s, warm-up {r['warmup']['seconds']:.2f} s"
        )
    lines.append(
        f"ratio B/A {ratio['b_over_a']:.4f}, {100 * ratio['confidence']:.0f}% CI "
        f"[{ratio['ci_low']:.4f}, {ratio['ci_high']:.4f}] over {len(ratio['per_pair'])} pairs "
        f"(above 1: the working tree is slower)"
    )
    return "\n".join(lines)
