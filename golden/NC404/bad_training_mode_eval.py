# harness-golden: path=nanochat/evaluate.py
"""Evaluation that leaves dropout on and lets batch norm learn from validation batches."""

import torch


@torch.no_grad()
def evaluate_loss(model, batches):  # expect: NC404
    total = torch.zeros(())
    for x, y in batches:
        total += model(x, y)
    return (total / len(batches)).item()


class Evaluator:
    def __init__(self, model):
        self.model = model

    @torch.inference_mode()
    def compute_val_bpb(self, x, y, nbytes):  # expect: NC404
        return self.model(x, y).sum().item() / nbytes
