# harness-golden: path=nanochat/dataloader.py
"""A loader with unfinished business recorded only in comments."""


def batches(tokens, B, T):
    # TODO: handle the last partial batch  # expect: NC507
    n = tokens.numel() // (B * T) * (B * T)
    rows = tokens[:n].view(-1, T)  # FIXME off-by-one at the shard boundary  # expect: NC507
    return rows.split(B)  # HACK: drops the remainder  # expect: NC507
