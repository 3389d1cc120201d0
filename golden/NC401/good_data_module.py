# harness-golden: path=nanochat/data.py
"""The data module is the data API: reading shards is its job."""

from pathlib import Path


def shard_paths(parquet_dir):
    return sorted(Path(parquet_dir).glob("*.parquet"))


def read_document(path):
    with open(path, encoding="utf-8") as f:
        return f.read()
