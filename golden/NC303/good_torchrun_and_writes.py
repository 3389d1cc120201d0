# harness-golden: path=nanochat/train.py
"""torchrun's own variables, and setting variables for child libraries, are fine."""

import os


def distributed_info():
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    return rank, world_size, os.environ["LOCAL_RANK"] if "LOCAL_RANK" in os.environ else 0


def quiet_tokenizers():
    os.environ["TOKENIZERS_PARALLELISM"] = "false"


def restore_env(name):
    del os.environ[name]
