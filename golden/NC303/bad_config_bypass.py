# harness-golden: path=nanochat/model.py
"""The model reads a knob from the environment, so two 'identical' configs can differ."""

from os import environ, getenv


def use_flash():
    return getenv("NANOCHAT_FLASH", "1") == "1"  # expect: NC303


def softcap():
    return float(environ.get("NANOCHAT_SOFTCAP", "15"))  # expect: NC303
