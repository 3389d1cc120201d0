# harness-golden: path=nanochat/data.py
"""Handlers that name what they expect and either recover meaningfully or re-raise."""

import contextlib
import logging
import os

from nanochat.config import NanochatError

logger = logging.getLogger(__name__)


def remove_stale(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def load_tokenizer(path, load):
    try:
        return load(path)
    except FileNotFoundError as exc:
        raise NanochatError(f"{path}: tokenizer missing; run `python -m nanochat.data prepare`") from exc


def guarded(step, fn):
    try:
        return fn()
    except Exception:
        logger.exception("step %d failed", step)
        raise


def optional_rich():
    with contextlib.suppress(ImportError):
        import rich

        return rich
    return None
