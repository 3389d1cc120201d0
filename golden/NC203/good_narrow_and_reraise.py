# harness-golden: path=nanochat/checkpoint.py
"""A narrow default for the one expected case, and broad handlers that add context and re-raise."""

import json

from nanochat.config import NanochatError


def load_meta(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def latest_step(paths):
    try:
        return max(int(p.stem.split("_")[-1]) for p in paths)
    except ValueError as exc:
        raise NanochatError(f"checkpoint names {sorted(map(str, paths))} do not end in a step number") from exc


def save_or_explain(save, path):
    try:
        save(path)
    except Exception as exc:
        raise NanochatError(f"{path}: could not write the checkpoint ({exc}); check free disk space") from exc


def is_flash_attention_available():
    try:
        from flash_attn import flash_attn_func
    except Exception:
        return False
    return flash_attn_func is not None
