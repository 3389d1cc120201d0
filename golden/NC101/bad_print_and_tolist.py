# harness-golden: path=nanochat/train.py
"""Printing tensors and converting logits to lists inside the step loop."""


def fit(model, batches, optimizer):
    for x, y in batches:
        logits, loss = model(x, y)
        loss.backward()
        optimizer.step()
        preds = logits.argmax(-1).tolist()  # expect: NC101
        print("train loss", loss)  # expect: NC101
        if len(preds) > 3:
            host_copy = logits.to("cpu")  # expect: NC101
            del host_copy


if __name__ == "__main__":
    raise SystemExit("run through python -m nanochat.train")
