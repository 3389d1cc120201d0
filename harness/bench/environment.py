"""What a benchmark ran on: device and versions, the attention kernel the model really called, peak memory.

The attention backend is observed, not inferred: one no-grad forward pass runs with
``nanochat.attention``'s two kernels (``flash_attention``, ``sdpa_attention``) wrapped to record
which one the dispatcher chose, so a flash-attention install that does not apply (fp32, CPU, an
unsupported dtype) reports SDPA. SDPA's own kernel choice inside torch is not visible from here.
"""

from __future__ import annotations

import platform
from pathlib import Path

import torch

import nanochat
from nanochat import attention as nanochat_attention
from nanochat import device as dev

UNKNOWN = "unknown"


def device_name(device: torch.device) -> str:
    """The GPU's marketing name on CUDA, else the CPU model from /proc/cpuinfo (or platform)."""
    if dev.is_cuda(device):
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return f"Apple MPS ({platform.machine()})"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or UNKNOWN


def _flash_label() -> str:
    func = getattr(nanochat_attention, "FLASH_ATTN_FUNC", None)
    package = (getattr(func, "__module__", "") or "").split(".")[0]
    # FA3 ships as the top-level module flash_attn_interface, FA2 inside the flash_attn package.
    return {"flash_attn_interface": "flash-attention 3", "flash_attn": "flash-attention 2"}.get(
        package, "flash-attention"
    )


def observed_attention(model: torch.nn.Module, amp, device: torch.device, seq_len: int) -> str:
    """Run one (1, seq_len) forward pass and name the attention kernel(s) it went through."""
    seen: list[str] = []
    originals = {}

    def recording(name: str, kernel):
        def record(q, k, v, window):
            label = _flash_label() if name == "flash_attention" else "sdpa"
            needs_mask = getattr(nanochat_attention, "needs_mask", None)
            if (
                label == "sdpa"
                and needs_mask is not None
                and needs_mask(q.size(1), k.size(1), window)
            ):
                label = "sdpa with explicit mask"
            seen.append(label)
            return kernel(q, k, v, window)

        return record

    for name in ("flash_attention", "sdpa_attention"):
        kernel = getattr(nanochat_attention, name, None)
        if kernel is not None:
            originals[name] = kernel
            setattr(nanochat_attention, name, recording(name, kernel))
    try:
        with torch.no_grad(), amp:
            model(torch.zeros((1, seq_len), dtype=torch.long, device=device))
    finally:
        for name, kernel in originals.items():
            setattr(nanochat_attention, name, kernel)
    return " + ".join(dict.fromkeys(seen)) or UNKNOWN


def environment(device: torch.device, dtype: torch.dtype, compile: bool, attention: str) -> dict:
    """JSON-ready facts about where the step ran; ``nanochat`` is the package folder timed."""
    return {
        "device": str(device),
        "device_name": device_name(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "dtype": str(dtype).removeprefix("torch."),
        "attention": attention,
        "compile": compile,
        "cpu_threads": torch.get_num_threads(),
        "nanochat": str(Path(nanochat.__file__).parent),
    }


def reset_peak_memory(device: torch.device) -> None:
    """Start the CUDA peak counters afresh (after warm-up); a no-op elsewhere, where RSS never resets."""
    if dev.is_cuda(device):
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: torch.device) -> dict:
    """CUDA: max allocated and reserved MiB since the last reset, and allocator retries (cudaMalloc
    failures that forced a cache flush). Elsewhere only the process's max RSS since it started."""
    if dev.is_cuda(device):
        return {
            "source": "cuda allocator, timed rounds",
            "allocated_mb": torch.cuda.max_memory_allocated(device) / 2**20,
            "reserved_mb": torch.cuda.max_memory_reserved(device) / 2**20,
            "alloc_retries": torch.cuda.memory_stats(device).get("num_alloc_retries", 0),
            "max_rss_mb": None,
        }
    return {
        "source": "process max RSS since start",
        "allocated_mb": None,
        "reserved_mb": None,
        "alloc_retries": None,
        "max_rss_mb": dev.peak_memory_mb(device),
    }
