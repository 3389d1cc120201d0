# harness-golden: path=nanochat/evaluate.py
"""A method-level inference_mode decorator covers the evaluation."""

import torch


class Evaluator:
    def __init__(self, model):
        self.model = model

    @torch.inference_mode()
    def evaluate_bpb(self, x, y, nbytes):
        self.model.eval()
        return self.model(x, y).sum().item() / nbytes
