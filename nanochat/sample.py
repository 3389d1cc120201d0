"""Sample text from a checkpoint: ``python -m nanochat.sample --checkpoint DIR --prompt TEXT``.

Loads the model config and weights written by ``python -m nanochat.train --checkpoint-dir DIR``
(a step_NNNNNN directory or its parent, latest step), the matching tokenizer, and streams tokens
from ``GPT.generate`` with a KV cache. Prompt plus new tokens are capped at the trained context.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import torch

from nanochat import checkpoint as ckpt
from nanochat import device as dev
from nanochat.config import NanochatError
from nanochat.model import GPT
from nanochat.tokenizer import get_tokenizer


def load_model(checkpoint: str, device: torch.device) -> GPT:
    """The trained GPT from a checkpoint directory, in eval mode on ``device``."""
    directory = ckpt.resolve_checkpoint(checkpoint)
    config = ckpt.model_config_from_meta(ckpt.load_meta(directory))
    if config.model_family != "nanochat":
        raise NanochatError(
            f"{directory}: a --model-family {config.model_family} checkpoint; sampling needs the "
            "nanochat GPT (its KV cache), so train one without --model-family"
        )
    model = GPT.build(config, device)
    model.load_state_dict(ckpt.load_model_state(directory, device))
    return model.eval()


def sample_tokens(
    model: GPT,
    tokenizer,
    prompt: str,
    max_new_tokens: int,
    temperature: float,
    top_k: int | None,
    seed: int,
) -> Iterator[str]:
    """Decoded text pieces after ``prompt`` (BOS-prefixed), as generated tokens complete characters."""
    ids = tokenizer.encode(prompt, prepend_bos=True)
    room = model.config.sequence_len - len(ids)
    if room <= 0:
        raise NanochatError(
            f"prompt is {len(ids)} tokens; the model's context is {model.config.sequence_len}; shorten --prompt"
        )
    new_ids: list[int] = []
    emitted = ""
    for token in model.generate(ids, min(max_new_tokens, room), temperature, top_k, seed):
        new_ids.append(token)
        text = tokenizer.decode(new_ids)
        if not text.endswith("\ufffd"):  # hold back a multi-byte character split across tokens
            yield text[len(emitted) :]
            emitted = text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nanochat.sample", description="Sample from a checkpoint."
    )
    parser.add_argument(
        "--checkpoint", required=True, help="a step_NNNNNN checkpoint dir, or its parent (latest)"
    )
    parser.add_argument(
        "--prompt", default="", help="text to continue (default: start from BOS alone)"
    )
    parser.add_argument(
        "--max-new-tokens", type=int, default=100, help="tokens to generate, capped by the context"
    )
    parser.add_argument(
        "--temperature", type=float, default=0.8, help="softmax temperature; 0 = greedy"
    )
    parser.add_argument(
        "--top-k", type=int, default=50, help="sample from the k likeliest tokens; -1 = disable"
    )
    parser.add_argument("--seed", type=int, default=42, help="sampling seed")
    parser.add_argument("--device", default="", help="torch device; empty = autodetect")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        device = dev.detect_device(args.device)
        model = load_model(args.checkpoint, device)
        tokenizer = get_tokenizer(model.config.vocab_size)
        top_k = args.top_k if args.top_k > 0 else None
        print(args.prompt, end="", flush=True)
        for piece in sample_tokens(
            model, tokenizer, args.prompt, args.max_new_tokens, args.temperature, top_k, args.seed
        ):
            print(piece, end="", flush=True)
        print()
    except (NanochatError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
