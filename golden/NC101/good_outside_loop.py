# harness-golden: path=nanochat/train.py
"""Host reads outside the step loop, and integer conversions of plain counters inside it."""


def train(model, loader, opt, num_steps, grad_accum_steps, log_every):
    for step in range(num_steps):
        for _ in range(int(grad_accum_steps)):
            x, y = next(loader)
            model(x, y).backward()
        opt.step()
        if step % log_every == 0: print(f"step {step}")
    first_param = next(model.parameters())
    return first_param.detach().cpu().tolist()


def summarize(history):
    for epoch, loss in enumerate(history):
        print(epoch, float(loss))


if __name__ == "__main__":
    raise SystemExit("run through python -m nanochat.train")
