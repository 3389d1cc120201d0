"""Corpus preparation (``python -m nanochat.data prepare``) and the public data API.

``prepare`` trains the tokenizer on train documents only (capped at tokenizer_max_chars), then
tokenizes both splits into shards (see nanochat.dataset for the format); text documents are
written in a seeded shuffled order, parquet rows in file order. It is deterministic and
idempotent: a manifest records the corpus content hash, the settings and the tokenizer
fingerprint, and a second run with nothing changed returns without touching the shards. Shards
are written into a temporary directory and swapped in only when complete.

The packing loader lives in nanochat.dataloader and is re-exported here as ``PackedLoader``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from nanochat.config import DataConfig, ModelConfig, NanochatError
from nanochat.dataset import (
    MANIFEST,
    SPLITS,
    CorpusSource,
    ShardWriter,
    data_dir,
    find_source,
    parquet_files,
    parquet_row_groups,
    read_manifest,
    text_documents,
    token_dtype,
)
from nanochat.tokenizer import Tokenizer, tokenizer_dir

if TYPE_CHECKING:
    from nanochat.dataloader import PackedLoader

__all__ = ["PackedLoader", "PrepareResult", "prepare", "main"]

FORMAT_VERSION = 2  # 2: text documents written in seeded shuffled order
ENCODE_BATCH_CHARS = 1 << 21  # characters handed to one encode_batch call
ProgressFn = Callable[[str, int, int], None]  # (stage, completed, total)


@dataclass(frozen=True)
class PrepareResult:
    directory: Path
    manifest: dict
    skipped: bool  # True when the manifest matched and nothing was rewritten
    seconds: float


def prepare(
    cfg: DataConfig,
    vocab_size: int,
    on_progress: ProgressFn | None = None,
    num_threads: int | None = None,
) -> PrepareResult:
    start = time.perf_counter()
    report = on_progress or (lambda stage, done, total: None)
    threads = num_threads or os.cpu_count() or 1
    source = find_source(cfg)
    report("hashing corpus", 0, 1)
    settings = _settings(cfg, source, vocab_size)
    report("hashing corpus", 1, 1)
    out = data_dir(cfg, vocab_size)
    tokenizer = _existing_tokenizer(vocab_size, settings)
    manifest = read_manifest(out)
    if tokenizer is not None and _is_current(manifest, settings, tokenizer, out):
        return PrepareResult(out, manifest, True, time.perf_counter() - start)
    if tokenizer is None:
        tokenizer = _train_tokenizer(source, cfg, vocab_size, settings, report)
    staging = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    splits = {}
    for split in SPLITS:
        writer = ShardWriter(staging / split, cfg.tokens_per_shard, token_dtype(vocab_size))
        for docs in _document_batches(source, cfg, split, report):
            for ids in tokenizer.encode_batch(docs, num_threads=threads, prepend_bos=True):
                writer.add(ids)
        writer.flush()
        if writer.total_docs == 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise NanochatError(
                f"{source.root}: the {split} split has no documents; "
                "use a larger corpus or adjust val_fraction"
            )
        splits[split] = {
            "docs": writer.total_docs,
            "tokens": writer.total_tokens,
            "shards": writer.names,
        }
    manifest = {
        "settings": settings,
        "tokenizer_fingerprint": tokenizer.fingerprint,
        "splits": splits,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    _swap_in(staging, out)
    return PrepareResult(out, manifest, False, time.perf_counter() - start)


def _settings(cfg: DataConfig, source: CorpusSource, vocab_size: int) -> dict:
    return {
        "format": FORMAT_VERSION,
        "corpus_id": source.corpus_id,
        "kind": source.kind,
        "root": str(source.root.resolve()),
        "corpus_hash": source.content_hash(),
        "vocab_size": vocab_size,
        "val_fraction": cfg.val_fraction if source.kind == "text" else None,
        "split_seed": cfg.split_seed if source.kind == "text" else None,
        "max_doc_chars": cfg.max_doc_chars if source.kind == "text" else None,
        "tokenizer_max_chars": cfg.tokenizer_max_chars,
        "tokens_per_shard": cfg.tokens_per_shard,
    }


def _tokenizer_key(settings: dict) -> str:
    """Everything that decides the tokenizer's training text, hashed."""
    keys = ("format", "kind", "corpus_hash", "vocab_size", "val_fraction", "split_seed",
            "max_doc_chars", "tokenizer_max_chars")  # fmt: skip
    blob = json.dumps({k: settings[k] for k in keys}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _existing_tokenizer(vocab_size: int, settings: dict) -> Tokenizer | None:
    directory = tokenizer_dir(vocab_size)
    try:
        tokenizer = Tokenizer.load(directory)
    except NanochatError:
        return None
    if tokenizer.provenance.get("train_key") != _tokenizer_key(settings):
        return None
    return tokenizer


def _is_current(manifest: dict | None, settings: dict, tokenizer: Tokenizer, out: Path) -> bool:
    if not manifest or manifest.get("settings") != settings:
        return False
    if manifest.get("tokenizer_fingerprint") != tokenizer.fingerprint:
        return False
    return all(
        (out / split / f"{name}{suffix}").is_file()
        for split in SPLITS
        for name in manifest["splits"][split]["shards"]
        for suffix in (".tokens.npy", ".offsets.npy")
    )


def _train_tokenizer(
    source: CorpusSource, cfg: DataConfig, vocab_size: int, settings: dict, report: ProgressFn
) -> Tokenizer:
    budget = cfg.tokenizer_max_chars

    def capped_texts() -> Iterator[str]:
        used = 0
        for docs in _document_batches(source, cfg, "train", lambda *_: None):
            for text in docs:
                if used >= budget:
                    return
                text = text[: budget - used]
                used += len(text)
                yield text

    report("training tokenizer", 0, 1)
    provenance = {"corpus_id": source.corpus_id, "train_key": _tokenizer_key(settings)}
    tokenizer = Tokenizer.train(capped_texts(), vocab_size, provenance)
    tokenizer.save(tokenizer_dir(vocab_size))
    report("training tokenizer", 1, 1)
    return tokenizer


def _document_batches(
    source: CorpusSource, cfg: DataConfig, split: str, report: ProgressFn
) -> Iterator[list[str]]:
    """Lists of document texts: parquet row groups in file order, or text documents in a seeded
    shuffled order (sorted paths would put whole topics one after another in every epoch), in
    batches of about ENCODE_BATCH_CHARS."""
    stage = f"tokenizing {split}"
    if source.kind == "parquet":
        files = parquet_files(source, split)
        for i, path in enumerate(files):
            report(stage, i, len(files))
            yield from parquet_row_groups(path)
        report(stage, len(files), len(files))
        return
    docs = [doc.text for doc in text_documents(source, cfg, split)]
    random.Random(f"{cfg.split_seed}:{split}").shuffle(docs)
    start = 0
    while start < len(docs):
        end, size = start, 0
        while end < len(docs) and size < ENCODE_BATCH_CHARS:
            size += len(docs[end])
            end += 1
        report(stage, start, len(docs))
        yield docs[start:end]
        start = end
    report(stage, len(docs), len(docs))


def __getattr__(name: str):
    """``PackedLoader`` is imported on first use, so preparing data never loads torch."""
    if name == "PackedLoader":
        from nanochat.dataloader import PackedLoader

        return PackedLoader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _swap_in(staging: Path, out: Path) -> None:
    retired = out.with_name(f"{out.name}.old-{os.getpid()}")
    if out.exists():
        out.replace(retired)
    staging.replace(out)
    shutil.rmtree(retired, ignore_errors=True)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m nanochat.data", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="train the tokenizer and write token shards")
    prep.add_argument(
        "--vocab-size",
        type=int,
        default=ModelConfig().vocab_size,
        help="vocabulary size including <|bos|> (default: %(default)s; 32768 on GPU)",
    )
    prep.add_argument(
        "--corpus-dir",
        default="",
        help="directory of text files (default: $NANOCHAT_CORPUS_DIR, else the Python docs)",
    )
    prep.add_argument(
        "--parquet-dir", default="", help="directory of *.parquet shards with a text column"
    )
    prep.add_argument("--threads", type=int, default=0, help="encoder threads (0 = all CPUs)")
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    args = _parse_args(argv)
    overrides = {"corpus_dir": args.corpus_dir, "parquet_dir": args.parquet_dir}
    cfg = replace(DataConfig(), **{k: v for k, v in overrides.items() if v})
    console = Console(stderr=True)
    columns = (TextColumn("{task.description:<20}"), BarColumn(), TaskProgressColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            tasks: dict[str, int] = {}

            def on_progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = progress.add_task(stage, total=total)
                progress.update(tasks[stage], completed=done, total=total)

            result = prepare(cfg, args.vocab_size, on_progress, args.threads or None)
    except NanochatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    splits = result.manifest["splits"]
    summary = ", ".join(
        f"{s} {splits[s]['docs']} docs / {splits[s]['tokens']} tokens" for s in SPLITS
    )
    verb = "up to date" if result.skipped else "prepared"
    print(f"{verb}: {result.directory} ({summary}) in {result.seconds:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
