# harness-golden: path=nanochat/train.py
"""Knobs read from the environment in the middle of the trainer."""

import os


def device_batch_size():
    return int(os.environ.get("NANOCHAT_BATCH", "8"))  # expect: NC303


def use_compile():
    return os.getenv("NANOCHAT_COMPILE") == "1"  # expect: NC303


def run_name():
    return os.environ["RUN_NAME"]  # expect: NC303
