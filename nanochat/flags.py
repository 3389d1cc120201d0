"""The ``python -m nanochat.train`` command line: one ``--field-name`` flag per config field.

Flags are grouped by config section (train, model, optim, data); each one's help shows the
config's real default. Flags default to None so that only the given ones override the config.
Parse errors are one line ending in a pointer to ``--help``, exit status 2.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from nanochat.config import TrainConfig, with_overrides

# Help for the flags people reach for; every other config field still gets a flag named after it.
HELP = {
    "depth": "transformer layers; width is depth x aspect_ratio (default %(default)s)",
    "sequence_len": "context length in tokens (default %(default)s)",
    "vocab_size": "tokenizer vocabulary; must match `python -m nanochat.data prepare --vocab-size` (default %(default)s)",
    "window_pattern": "per-layer attention windows, S(hort)/L(ong) tiled over depth, e.g. SSSL; keep L on CPU (default %(default)s)",
    "device_batch_size": "sequences per device per micro-step (default %(default)s)",
    "total_batch_tokens": "tokens per optimizer step across devices; -1 = B x T x world, no accumulation (default %(default)s)",
    "num_steps": "optimizer steps; -1 = derive from --time-budget or --target-param-data-ratio (default %(default)s)",
    "time_budget_s": "wall-clock training budget in seconds (schedules follow elapsed time); -1 = disable (default %(default)s)",
    "eval_every": "optimizer steps between val_bpb evaluations; -1 = only at the end; 0 = never (val_bpb nan) (default %(default)s)",
    "eval_tokens": "validation tokens per evaluation (default %(default)s)",
    "log_every": "optimizer steps between log lines, which read the loss back to the host (default %(default)s)",
    "checkpoint_every": "optimizer steps between checkpoints; -1 = only at the end (default %(default)s)",
    "checkpoint_dir": "write checkpoints under DIR/step_NNNNNN/; empty = no checkpoints",
    "resume": "continue from this checkpoint (a step_NNNNNN dir or its parent, latest step)",
    "device": "torch device (cpu, cuda, cuda:1, mps); empty = autodetect",
    "dtype": "autocast dtype (bf16 or fp32); empty = bf16 on CUDA, fp32 elsewhere",
    "matrix_lr": "Muon LR for block matrices at the reference batch (default %(default)s)",
    "embedding_lr": "AdamW LR for token and value embeddings at the reference width and batch (default %(default)s)",
    "max_loss": "stop with an error when the loss exceeds this or is not finite (default %(default)s)",
    "target_param_data_ratio": "training tokens per matmul parameter when neither steps nor budget are set (default %(default)s)",
    "model_family": "nanochat (the GPT) or gpt2 (plain GPT-2 baseline of matched parameter count, AdamW only) (default %(default)s)",
    "target_val_bpb": "stop at the first scheduled evaluation with val_bpb <= this; -1 = no target (default %(default)s)",
    "target_core": "stop at the first CORE evaluation with CORE >= this (needs --core-bundle); -1 = no target (default %(default)s)",
    "core_bundle": "CORE bundle directory (core.json + task JSONL), scored on the --core-every schedule; empty = no CORE",
    "core_every": "optimizer steps between CORE evaluations; -1 = at every val evaluation (default %(default)s)",
    "core_max_per_task": "CORE items scored per task; -1 = all (default %(default)s)",
    "curve_jsonl": "write the loss-vs-time curve to PATH, one JSON line per logged step and evaluation, flushed; empty = none",
    "gpt2_lr": "gpt2 baseline: AdamW LR for every parameter at the reference batch (default %(default)s)",
}
ALIASES = {"time_budget_s": ["--time-budget"]}
PARSER_ONLY = ("summary_json",)  # flags of the entry point, not config fields


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"error: {message}; run `python -m nanochat.train --help`\n")


def build_parser() -> argparse.ArgumentParser:
    """One flag per config field (``--field-name``), grouped by config section."""
    parser = _OneLineParser(prog="python -m nanochat.train", description="Train the nanochat GPT.")
    parser.add_argument(
        "--summary-json", default="", metavar="PATH", help="also write the summary as JSON to PATH"
    )
    defaults = TrainConfig()
    sections = [("train", defaults)] + [
        (name, getattr(defaults, name)) for name in ("model", "optim", "data")
    ]
    for title, section in sections:
        group = parser.add_argument_group(title)
        for f in fields(section):
            if f.name in ("model", "optim", "data"):
                continue
            default = getattr(section, f.name)
            flags = [f"--{f.name.replace('_', '-')}", *ALIASES.get(f.name, [])]
            help_text = HELP.get(f.name, f"{type(section).__name__}.{f.name} (default %(default)s)")
            # Flags default to None so only given ones override the config; show the config's value.
            help_text = help_text.replace("%(default)s", str(default).replace("%", "%%"))
            if isinstance(default, bool):
                group.add_argument(
                    *flags,
                    dest=f.name,
                    default=None,
                    action=argparse.BooleanOptionalAction,
                    help=help_text,
                )
            elif isinstance(default, tuple):
                group.add_argument(
                    *flags,
                    dest=f.name,
                    default=None,
                    nargs=len(default),
                    type=type(default[0]),
                    help=help_text,
                )
            else:
                group.add_argument(
                    *flags, dest=f.name, default=None, type=type(default), help=help_text
                )
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """TrainConfig with every flag that was given applied over the defaults."""
    changes = {
        k: (tuple(v) if isinstance(v, list) else v)
        for k, v in vars(args).items()
        if v is not None and k not in PARSER_ONLY
    }
    return with_overrides(TrainConfig(), **changes)
