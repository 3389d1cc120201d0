"""Device, dtype and hardware facts: autodetection, autocast context, peak FLOPs and peak memory.

This is the one module in nanochat allowed to name device types; everything else asks it.
CUDA gets bf16 autocast; CPU and MPS run fp32 because bf16 autocast on CPU makes backward slow.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist

from nanochat.config import NanochatError

_DTYPES = {
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp32": torch.float32,
    "float32": torch.float32,
}

# Dense (no sparsity) bf16 tensor-core peaks in FLOP/s, from NVIDIA's datasheets (the sparse
# figure they headline is twice these). Keys are tokens of torch.cuda.get_device_name(), split on
# anything but letters and digits and upper-cased; the first entry whose tokens all appear wins,
# so variants come before the plain model name. A bare "H100" is the SXM part ("NVIDIA H100 80GB
# HBM3"); a name no entry matches gets no MFU.
_CUDA_PEAK_FLOPS = (
    (("H100", "NVL"), 835e12),  # H100 NVL datasheet: 1,671 TFLOPS bf16 with sparsity
    (("H100", "PCIE"), 756e12),  # H100 PCIe: 1,513 with sparsity
    (("H100",), 989e12),  # H100 SXM5: 1,979 with sparsity (989.4 dense)
    (("GH200",), 989e12),  # Grace Hopper superchip: the H100 SXM tensor cores
    (("H200", "NVL"), 835e12),  # H200 NVL: 1,671 with sparsity
    (("H200",), 989e12),  # H200 SXM: 1,979 with sparsity, same SM count and clocks as H100 SXM
    (("A100",), 312e12),  # A100 SXM4 and PCIe, 40 and 80 GB: 312 dense, 624 with sparsity
    (("L40S",), 362e12),  # L40S: 362.05 dense, 733 with sparsity
    (("A10",), 125e12),  # A10 (not A10G): 125 dense, 250 with sparsity
    (("4090",), 165e12),  # RTX 4090, Ada whitepaper: 165.2 with fp32 accumulate, 330.3 sparse
    (("3090",), 71e12),  # RTX 3090, Ampere GA102 whitepaper: 71 with fp32 accumulate
)


def detect_device(preference: str = "") -> torch.device:
    """The requested device, or the best available one (cuda, then mps, then cpu) when empty."""
    if preference:
        try:
            device = torch.device(preference)
        except RuntimeError as exc:
            raise NanochatError(
                f"--device {preference!r} is not a torch device ({exc}); use cpu, cuda or mps"
            ) from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise NanochatError(
                f"--device {preference!r} requested but CUDA is not available; use --device cpu"
            )
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise NanochatError(
                f"--device {preference!r} requested but MPS is not available; use --device cpu"
            )
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def detect_dtype(device: torch.device, preference: str = "") -> torch.dtype:
    """Compute dtype for autocast: bf16 on CUDA, fp32 elsewhere, unless ``preference`` names one."""
    if preference:
        if preference not in _DTYPES:
            raise NanochatError(f"--dtype {preference!r} is not supported; use one of bf16, fp32")
        return _DTYPES[preference]
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def autocast(device: torch.device, dtype: torch.dtype) -> contextlib.AbstractContextManager:
    """Autocast to ``dtype`` when it is lower precision than fp32, else a no-op context."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def is_cuda(device: torch.device) -> bool:
    return device.type == "cuda"


def distributed_backend(device: torch.device) -> str:
    """nccl on CUDA, gloo everywhere else."""
    return "nccl" if is_cuda(device) else "gloo"


def rank_device(device: torch.device, local_rank: int) -> torch.device:
    """The device a torchrun worker should use: its own GPU on CUDA, the shared device otherwise."""
    if is_cuda(device):
        torch.cuda.set_device(local_rank)
        return torch.device(device.type, local_rank)
    return device


def peak_flops(device: torch.device) -> float:
    """Peak dense FLOP/s for MFU; 0.0 where no figure is known (CPU, MPS), so MFU reports 0."""
    if not is_cuda(device):
        return 0.0
    return peak_flops_for_name(torch.cuda.get_device_name(device))


def peak_flops_for_name(name: str) -> float:
    """The ``_CUDA_PEAK_FLOPS`` figure for a CUDA device name, or 0.0 for a GPU not in the table."""
    tokens = set(re.split(r"[^0-9A-Z]+", name.upper()))
    return next((flops for keys, flops in _CUDA_PEAK_FLOPS if tokens.issuperset(keys)), 0.0)


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels so wall-clock timings are honest."""
    if is_cuda(device):
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def peak_memory_mb(device: torch.device) -> float:
    """Peak allocated accelerator memory on CUDA, else the process's peak resident set size, in MiB."""
    if is_cuda(device):
        return torch.cuda.max_memory_allocated(device) / 2**20
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is bytes on macOS, KiB on Linux.
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 2**10


def manual_seed(seed: int) -> None:
    """Seed torch on every device type in use."""
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_ddp(self) -> bool:
        return self.world_size > 1

    @property
    def is_master(self) -> bool:
        return self.rank == 0


def dist_info_from_env() -> DistInfo:
    """Rank facts from the torchrun environment (RANK, LOCAL_RANK, WORLD_SIZE); single process otherwise."""
    return DistInfo(
        int(os.environ.get("RANK", 0)),
        int(os.environ.get("LOCAL_RANK", 0)),
        int(os.environ.get("WORLD_SIZE", 1)),
    )


def init_distributed(dist_: DistInfo, device: torch.device) -> bool:
    """Join the torchrun process group when needed; True when this call created it."""
    if not dist_.is_ddp or dist.is_initialized():
        return False
    dist.init_process_group(
        backend=distributed_backend(device), rank=dist_.rank, world_size=dist_.world_size
    )
    return True


def max_over_ranks(seconds: float, device: torch.device, dist_: DistInfo) -> float:
    """The largest value over ranks (one small host sync). Time-budgeted DDP runs stop on the
    slowest rank's clock: ranks deciding alone could leave one waiting in an all-reduce forever."""
    if not dist_.is_ddp:
        return seconds
    value = torch.tensor(seconds, dtype=torch.float64, device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return float(value.item())
