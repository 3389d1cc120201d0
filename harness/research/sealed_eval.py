"""The sealed evaluator: scores one candidate's checkpoint in a process of its own.

It runs from this harness's files (``sealed_eval_command``) with PYTHONPATH at an *eval tree*:
a copy of the candidate's ``nanochat/`` whose sealed modules (``SEALED_MODULES``) are the pinned
base's. The candidate's model code loads the checkpoint; the pinned ``nanochat.evaluate`` scores
it, calling ``model(inputs)`` only, at the pinned sequence length, on ``DataConfig(**pinned
fields)``, so a candidate that edits DataConfig's defaults changes nothing and one that drops a
field fails. The val split is cut into two disjoint parts: **dev** (the first ``dev_tokens``
worth of batches, what decides) and **test** (the next ``test_tokens`` worth, report only).

Canaries, each a one-line error in the result: the pinned files must hash as pinned; the sealed
modules must be the ones imported and the candidate's config must resolve the val split and
tokenizer to the pinned paths; the evaluation functions (and ``F.cross_entropy``) must be the
same objects after scoring as before the candidate's code ran; the **causality probe** changes
every token after a cut point t and requires the logits at positions <= t to stay put (fp32, CPU).

The result file is ``{"dev": BpbResult fields, "test": ..., "causality": {"ok", "max_diff", ...},
"seconds", "nonce"}`` or ``{"error": "one line", "kind": "tamper" | "crash", ...}``; the nonce,
read from stdin before any candidate code runs, tells the harness the evaluator wrote it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict
from itertools import islice
from pathlib import Path

from harness.errors import HarnessError
from harness.research.dataview import file_sha256, harness_command, load_pinned, verify_pinned

SEALED_MODULES = (
    "evaluate.py",
    "core_eval.py",
    "data.py",
    "dataset.py",
    "dataloader.py",
    "tokenizer.py",
)
RESULT_FILE = "eval.json"
# A causal model's fp32 logits at positions <= t are the same arithmetic on the same inputs
# whatever follows t, so they agree to the last bit on CPU (measured: 0.0 on the tiny runs);
# 1e-5 leaves room for a kernel that splits a reduction by sequence position. A look at the next
# token moves them by orders of magnitude more (1.3 after two steps of the tiny test run).
CAUSAL_ATOL = 1e-5
PROBE_ROWS = 2  # val rows the probe runs on: more than one, so batch-mixing shows too
PROBE_SEED = 20240  # seeds the replacement tokens, so a probe is reproducible


class SealedError(Exception):
    """A refusal to score: ``kind`` is "tamper" (a canary fired) or "crash"."""

    def __init__(self, message: str, kind: str = "crash"):
        super().__init__(message)
        self.kind = kind


def build_eval_tree(candidate_tree: Path, pinned_dir: Path, dest: Path) -> Path:
    """Copy the candidate's ``nanochat/`` into ``dest`` with the pinned sealed modules; returns dest.

    A candidate's ``evaluate/`` package or ``evaluate.*`` extension would win over
    ``evaluate.py`` at import, so everything named after a sealed module is removed first;
    ``__pycache__`` is never copied (a stale ``.pyc`` could shadow the pinned source).
    """
    source = Path(candidate_tree) / "nanochat"
    if not source.is_dir():
        raise HarnessError(f"{source}: no nanochat package to evaluate; check the trial's tree")
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    package = dest / "nanochat"
    shutil.copytree(source, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pinned = Path(pinned_dir) / "nanochat"
    for name in SEALED_MODULES:
        stem = name.removesuffix(".py")
        for entry in list(package.iterdir()):
            if entry.name == stem or entry.name.startswith(stem + "."):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        if (pinned / name).is_file():
            shutil.copy2(pinned / name, package / name)
    return dest


def sealed_eval_command() -> list[str]:
    """The argv prefix that runs ``main`` from this harness's files; append ``eval_args(...)``."""
    return harness_command("harness.research.sealed_eval")


def eval_args(
    pinned_dir: Path,
    checkpoint: Path,
    out: Path,
    dev_tokens: int,
    test_tokens: int,
    batch_size: int,
    device: str = "",
) -> list[str]:
    args = ["--pinned", str(pinned_dir), "--checkpoint", str(checkpoint), "--out", str(out)]
    args += ["--dev-tokens", str(dev_tokens), "--test-tokens", str(test_tokens)]
    args += ["--batch-size", str(batch_size)]
    return args + (["--device", device] if device else [])


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="harness.research.sealed_eval", description=__doc__)
    parser.add_argument("--pinned", required=True, help="folder holding pinned.json")
    parser.add_argument("--checkpoint", required=True, help="a step_NNNNNN dir or its parent")
    parser.add_argument("--out", required=True, help="where the JSON result goes")
    parser.add_argument("--dev-tokens", type=int, required=True, help="dev split size, tokens")
    parser.add_argument("--test-tokens", type=int, required=True, help="test split size, tokens")
    parser.add_argument("--batch-size", type=int, default=8, help="rows per eval batch")
    parser.add_argument("--device", default="", help="torch device; empty: cuda if present")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    nonce = sys.stdin.readline().strip()  # read before any candidate code is imported
    args = _parse(argv)
    start = time.perf_counter()
    try:
        result = _score(args)
    except SealedError as err:
        result = {"error": str(err), "kind": err.kind}
    except Exception as exc:  # the candidate's code may raise anything; it becomes the result
        result = {"error": one_line(exc), "kind": "crash"}
    result["seconds"] = time.perf_counter() - start
    result["nonce"] = nonce
    out = Path(args.out)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out)
    return 1 if "error" in result else 0


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _score(args: argparse.Namespace) -> dict:
    pinned = load_pinned(args.pinned)
    reason = verify_pinned(pinned)
    if reason:
        raise SealedError(reason, "tamper")
    import torch
    import torch.nn.functional as F

    loss_fn = F.cross_entropy
    sealed = _sealed_modules(pinned)
    originals = _judging_functions(sealed["evaluate"], loss_fn)
    data_cfg = _data_config(pinned)
    vocab, seq_len, rows = pinned["vocab_size"], pinned["sequence_len"], args.batch_size
    tokenizer = sealed["tokenizer"].Tokenizer.load(pinned["tokenizer_dir"])
    dev_steps = max(1, args.dev_tokens // (rows * seq_len))
    test_steps = max(1, args.test_tokens // (rows * seq_len))
    loader = sealed["data"].PackedLoader("val", rows, seq_len, tokenizer, data_cfg, "cpu")
    batches = list(islice(loader, dev_steps + test_steps))
    if len(batches) < dev_steps + test_steps:
        raise SealedError(
            f"{pinned['val_dir']}: the val split fills {len(batches)} batches of {rows} x {seq_len} "
            f"tokens; dev ({dev_steps}) and test ({test_steps}) need {dev_steps + test_steps}; "
            "lower dev-tokens/test-tokens or prepare a larger corpus"
        )
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    checkpoint, config = _checkpoint_config(args.checkpoint, vocab, seq_len)
    cpu_model = _load_model(checkpoint, config, "cpu").float()
    causality = causality_probe(cpu_model, batches[0][0][:PROBE_ROWS], vocab)
    model = cpu_model if device.type == "cpu" else _load_model(checkpoint, config, device)
    token_bytes = tokenizer.token_bytes()
    amp = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else contextlib.nullcontext()
    )
    with amp:
        dev = sealed["evaluate"].evaluate(model, _on(batches[:dev_steps], device), token_bytes, -1)
        test = sealed["evaluate"].evaluate(model, _on(batches[dev_steps:], device), token_bytes, -1)
    now = _judging_functions(sealed["evaluate"], F.cross_entropy)
    for name, original in originals.items():
        if now.get(name) is not original:
            raise SealedError(f"{name} was replaced while the candidate's code ran", "tamper")
    return {"dev": asdict(dev), "test": asdict(test), "causality": causality}


def _judging_functions(evaluate_module, loss_fn) -> dict:
    """The callables scoring depends on, by name: the pinned evaluate's and torch's loss."""
    functions = {
        f"nanochat.evaluate.{k}": v for k, v in vars(evaluate_module).items() if callable(v)
    }
    return {**functions, "torch.nn.functional.cross_entropy": loss_fn}


def _sealed_modules(pinned: dict) -> dict:
    """The sealed modules, imported, each checked to be the pinned file; keyed by stem."""
    import importlib

    import nanochat

    package = Path(nanochat.__file__).resolve().parent
    expected_root = Path(os.environ.get("PYTHONPATH", "").split(os.pathsep)[0]).resolve()
    if package != expected_root / "nanochat":
        raise SealedError(f"{package}: imported instead of the eval tree's nanochat", "tamper")
    modules = {}
    for name in SEALED_MODULES:
        stem = name.removesuffix(".py")
        pinned_file = str(Path(pinned["nanochat_dir"]) / name)
        if pinned_file not in pinned["hashes"]:
            continue  # the base had no such module
        module = importlib.import_module(f"nanochat.{stem}")
        loaded = Path(getattr(module, "__file__", "") or "")
        if not loaded.is_file() or file_sha256(loaded) != pinned["hashes"][pinned_file]:
            raise SealedError(f"nanochat.{stem} came from {loaded}, not the pinned copy", "tamper")
        modules[stem] = module
    return modules


def _data_config(pinned: dict):
    from nanochat.config import DataConfig
    from nanochat.dataset import split_dir
    from nanochat.tokenizer import tokenizer_dir

    try:
        data_cfg = DataConfig(**pinned["data"])
    except TypeError as err:
        raise SealedError(
            f"nanochat/config.py: DataConfig no longer takes the pinned fields ({err}); "
            "keep every DataConfig field"
        ) from err
    vocab = pinned["vocab_size"]
    resolved = {
        "val split": (split_dir(data_cfg, vocab, "val"), pinned["val_dir"]),
        "tokenizer": (tokenizer_dir(vocab), pinned["tokenizer_dir"]),
    }
    for what, (found, expected) in resolved.items():
        if os.path.realpath(found) != os.path.realpath(expected):
            raise SealedError(
                f"the candidate's nanochat resolves the {what} to {found}, not the pinned "
                f"{expected}; keep base_dir() and the data paths as they are",
                "tamper",
            )
    return data_cfg


def _checkpoint_config(path: str, vocab: int, seq_len: int):
    from nanochat.checkpoint import load_meta, model_config_from_meta, resolve_checkpoint

    directory = resolve_checkpoint(path)
    config = model_config_from_meta(load_meta(directory))
    if config.vocab_size != vocab:
        raise SealedError(
            f"{directory}: trained with vocab size {config.vocab_size}, the evaluator is pinned to "
            f"{vocab}; keep --vocab-size {vocab}"
        )
    if config.sequence_len < seq_len:
        raise SealedError(
            f"{directory}: trained with sequence_len {config.sequence_len}, the evaluator scores "
            f"{seq_len}-token rows; keep --sequence-len {seq_len}"
        )
    return directory, config


def _load_model(directory: Path, config, device):
    from nanochat.checkpoint import load_model_state
    from nanochat.families import build_model

    model = build_model(config, device)
    model.load_state_dict(load_model_state(directory, device))
    model.eval()
    return model


def _on(batches: list, device):
    return ((inputs.to(device), targets.to(device)) for inputs, targets in batches)


def cut_points(seq_len: int) -> list[int]:
    """Positions t after which the probe changes every token: start, thirds, and the last."""
    candidates = {1, seq_len // 3, 2 * seq_len // 3, seq_len - 2}
    return sorted(t for t in candidates if 0 <= t <= seq_len - 2)


def causality_probe(model, rows, vocab_size: int) -> dict:
    """Max |logit change| at positions <= t when every token after t changes, over cut points."""
    import torch

    R, T = rows.shape
    generator = torch.Generator().manual_seed(PROBE_SEED)
    worst = 0.0
    model.eval()
    with torch.no_grad():
        reference = model(rows).float()
        for t in cut_points(T):
            altered = rows.clone()
            shift = torch.randint(1, vocab_size, (R, T - t - 1), generator=generator)
            altered[:, t + 1 :] = (rows[:, t + 1 :] + shift) % vocab_size
            logits = model(altered).float()
            before, after = reference[:, : t + 1], logits[:, : t + 1]
            both_nan = torch.isnan(before) & torch.isnan(after)
            diff = torch.where(both_nan, 0.0, (after - before).abs()).max().item()
            worst = diff if math.isnan(diff) else max(worst, diff)
            if math.isnan(worst):
                break
    is_ok = not math.isnan(worst) and worst <= CAUSAL_ATOL
    return {"ok": is_ok, "max_diff": worst, "cuts": cut_points(T), "tolerance": CAUSAL_ATOL}
