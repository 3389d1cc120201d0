"""Benchmarks of nanochat itself, run from the outside: ``harness bench step`` times the real
training step (model, optimizer, loader) at a given config, alone or against a git ref's code."""
