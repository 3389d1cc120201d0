"""nanochat: a small, modern GPT trainer (RoPE, QK-norm, value embeddings, Muon) for CPU and CUDA."""
