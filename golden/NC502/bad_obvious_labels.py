# harness-golden: path=nanochat/train.py
"""Section labels that repeat the next line."""

# Import necessary libraries  # expect: NC502
import torch


def train_step(model, batch, opt):
    x, y = batch
    # Forward pass  # expect: NC502
    loss = model(x, y)

    # Backward pass  # expect: NC502
    loss.backward()

    # Update weights  # expect: NC502
    opt.step()
    opt.zero_grad(set_to_none=True)  # Zero gradients  # expect: NC502
    return torch.as_tensor(loss.detach())
