# harness-golden: path=nanochat/train.py
"""The nanoGPT-script style: a block of module constants and a hard-coded loop length."""

import torch

batch_size = 32  # expect: NC301
block_size = 256  # expect: NC301
n_layer = 6  # expect: NC301
eval_interval = 500  # expect: NC301


def train(model, get_batch):
    torch.manual_seed(1337)  # expect: NC301
    opt = torch.optim.AdamW(model.parameters(), 1e-3)  # expect: NC301
    for step in range(5000):  # expect: NC301
        x, y = get_batch(batch_size, block_size)
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)  # expect: NC301
        opt.step()
        opt.zero_grad(set_to_none=True)


if __name__ == "__main__":
    raise SystemExit("run through python -m nanochat.train")
