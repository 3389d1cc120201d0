# harness-golden: path=nanochat/train.py
"""The step loop calls a helper for the backward pass; the loop is still the step loop."""


def run(cfg, model, loader, train_step):
    history = []
    for i in range(cfg.num_iterations):
        loss = train_step(model, next(loader))
        history.append(loss.item())  # expect: NC101
    step = 0
    while step < cfg.max_steps:
        loss = train_step(model, next(loader))
        if not bool(loss.isfinite()):  # expect: NC101
            break
        step += 1
    return history


if __name__ == "__main__":
    raise SystemExit("run through python -m nanochat.train")
