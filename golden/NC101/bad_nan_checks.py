# harness-golden: path=nanochat/train.py
"""Per-step NaN checks on the device loss: each one is a bool() on a CUDA tensor."""

import torch


def train(model, loader, opt, cfg):
    for step in range(cfg.num_steps):
        loss = model(*next(loader))
        if torch.isnan(loss):  # expect: NC101
            raise FloatingPointError(f"NaN loss at step {step}")
        assert loss.isfinite().all(), "loss diverged"  # expect: NC101
        loss.backward()
        opt.step()
        if step % cfg.log_every == 0 and not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite loss at step {step}")


if __name__ == "__main__":
    raise SystemExit("run through python -m nanochat.train")
