"""Checkpoints: everything needed to continue a run exactly where it stopped.

Layout of ``<checkpoint_dir>/step_NNNNNN/``: ``model.pt`` (the unwrapped model's state dict),
``optim.pt`` (optimizer state, identical on every rank under DDP), ``meta.json`` (step, training
seconds, configs, RNG-free facts) plus ``rng.pt`` (torch RNG states), and one
``loader_rank<R>.json`` per rank, because each rank reads its own documents. Rank 0 writes the
shared files, every rank writes its loader state; files are written to a temporary name and renamed,
so a crash mid-save never leaves a half-written file under the final name.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, fields
from pathlib import Path

import torch

from nanochat.config import ModelConfig, NanochatError, TrainConfig

STEP_DIR = re.compile(r"^step_(\d{6,})$")


def step_dir(checkpoint_dir: str | Path, step: int) -> Path:
    return Path(checkpoint_dir) / f"step_{step:06d}"


def _atomic_save_tensor(obj, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    torch.save(obj, tmp)
    tmp.replace(path)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def save_checkpoint(
    directory: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loader_state: dict,
    meta: dict,
    rank: int = 0,
) -> Path:
    """Write this rank's share of a checkpoint into ``directory``; returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(directory / f"loader_rank{rank}.json", json.dumps(loader_state))
    if rank == 0:
        _atomic_save_tensor(model.state_dict(), directory / "model.pt")
        _atomic_save_tensor(optimizer.state_dict(), directory / "optim.pt")
        rng = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        _atomic_save_tensor(rng, directory / "rng.pt")
        _atomic_write_text(
            directory / "meta.json", json.dumps(meta, indent=2, sort_keys=True) + "\n"
        )
    return directory


def train_meta(cfg: TrainConfig, step: int, training_seconds: float) -> dict:
    """The JSON facts stored beside the tensors: where the run was and what it was."""
    return {"step": step, "training_seconds": training_seconds, "train_config": asdict(cfg)}


def resolve_checkpoint(path: str | Path) -> Path:
    """A step directory as given, or the latest ``step_NNNNNN`` inside a parent directory."""
    path = Path(path)
    if (path / "meta.json").is_file():
        return path
    steps = (
        sorted(
            (int(m.group(1)), p)
            for p in path.glob("step_*")
            if (m := STEP_DIR.match(p.name)) and (p / "meta.json").is_file()
        )
        if path.is_dir()
        else []
    )
    if not steps:
        raise NanochatError(
            f"{path}: no checkpoint (meta.json) found; pass a --checkpoint-dir a run has written to"
        )
    return steps[-1][1]


def load_meta(directory: Path) -> dict:
    try:
        return json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise NanochatError(
            f"{directory / 'meta.json'}: unreadable checkpoint metadata ({exc})"
        ) from exc


def model_config_from_meta(meta: dict) -> ModelConfig:
    """The ModelConfig a checkpoint was trained with (fields added since then take defaults)."""
    known = {f.name for f in fields(ModelConfig)}
    return ModelConfig(**{k: v for k, v in meta["train_config"]["model"].items() if k in known})


def _load_tensor_file(path: Path, device: torch.device | str):
    if not path.is_file():
        raise NanochatError(f"{path}: missing checkpoint file; the checkpoint is incomplete")
    return torch.load(path, map_location=device, weights_only=True)


def load_model_state(directory: Path, device: torch.device | str) -> dict:
    return _load_tensor_file(directory / "model.pt", device)


def load_optimizer_state(directory: Path, device: torch.device | str) -> dict:
    return _load_tensor_file(directory / "optim.pt", device)


def load_loader_state(directory: Path, rank: int) -> dict:
    path = directory / f"loader_rank{rank}.json"
    if not path.is_file():
        raise NanochatError(
            f"{path}: no loader state for rank {rank}; resume with the same number of processes"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def restore_rng(directory: Path) -> None:
    """Put back the torch RNG states saved with the checkpoint (absent CUDA states are skipped)."""
    rng = _load_tensor_file(directory / "rng.pt", "cpu")
    torch.set_rng_state(rng["cpu"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def resume_into(
    path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, rank: int, device
) -> tuple[Path, int, float, dict]:
    """Load a checkpoint into ``model`` and ``optimizer`` and restore the RNG.

    Returns (checkpoint dir, step, training seconds so far, this rank's loader state).
    """
    directory = resolve_checkpoint(path)
    meta = load_meta(directory)
    if model_config_from_meta(meta) != model.config:
        raise NanochatError(
            f"{directory}: saved with other model settings; resume with the flags it was trained with"
        )
    model.load_state_dict(load_model_state(directory, device))
    optimizer.load_state_dict(load_optimizer_state(directory, device))
    loader_state = load_loader_state(directory, rank)
    restore_rng(directory)
    return directory, meta["step"], meta["training_seconds"], loader_state
