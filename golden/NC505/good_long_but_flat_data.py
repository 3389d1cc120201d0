# harness-golden: path=nanochat/flops.py
"""A long literal table is one statement; formatting never changes the count."""

PEAKS = {
    "H100": 989e12,
    "A100": 312e12,
    "L40S": 362e12,
}


def peak_flops(name):
    table = {
        "H100": 989e12,
        "H200": 989e12,
        "A100": 312e12,
        "A10": 125e12,
        "L40S": 362e12,
        "4090": 165e12,
        "3090": 71e12,
    }
    return table.get(name, 0.0)
