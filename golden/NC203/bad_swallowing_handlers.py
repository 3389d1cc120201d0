# harness-golden: path=nanochat/data.py
"""Shard loading that hides every failure."""

import logging

logger = logging.getLogger(__name__)


def load_shards(paths, read):
    shards = []
    for path in paths:
        try:
            shards.append(read(path))
        except:  # expect: NC203
            continue
    return shards


def load_tokenizer(path, load):
    try:
        return load(path)
    except Exception:  # expect: NC203
        pass


def prefetch(paths, read):
    for path in paths:
        try:
            read(path)
        except (OSError, Exception) as exc:  # expect: NC203
            logger.warning("prefetch failed for %s: %s", path, exc)
