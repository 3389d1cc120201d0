# harness-golden: path=nanochat/dataloader.py
"""The same loader with the current behaviour stated and the follow-up tracked in an issue."""


def batches(tokens, B, T):
    # The last partial batch is dropped: at most B*T - 1 tokens per epoch (see issue 12).
    n = tokens.numel() // (B * T) * (B * T)
    rows = tokens[:n].view(-1, T)  # (n // T, T)
    todo_count = 0  # a variable named todo is not a marker
    return rows.split(B), todo_count
