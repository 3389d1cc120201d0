# harness-golden: path=nanochat/train.py
"""An entry-point module (it has a __main__ block) prints its training log."""


def train(cfg):
    for step in range(cfg.num_steps):
        if step % cfg.log_every == 0:
            print(f"step {step:05d}")


if __name__ == "__main__":
    train(None)
