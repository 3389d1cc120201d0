# harness-golden: path=nanochat/train.py
"""A training loop that reads the loss back to the host on every step."""

import torch


def train(model, loader, opt, num_steps):
    losses = []
    for step in range(num_steps):
        x, y = next(loader)
        loss = model(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())  # expect: NC101
        print(f"step {step:05d} | loss {loss.detach().cpu()}")  # expect: NC101
    return losses


def train_with_accumulation(model, loader, opt, grad_accum_steps, grad_clip):
    while True:
        for micro_step in range(grad_accum_steps):
            x, y = next(loader)
            loss = model(x, y) / grad_accum_steps
            loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        if float(grad_norm) > 100:  # expect: NC101
            break
        opt.step()


if __name__ == "__main__":
    raise SystemExit("run through python -m nanochat.train")
