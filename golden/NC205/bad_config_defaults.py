# harness-golden: path=nanochat/report.py
"""Mutable defaults in keyword-only and positional-only parameters."""

import collections


def summarize(rows, /, seen=set()):  # expect: NC205
    seen.update(rows)
    return len(seen)


def track(step, *, history=collections.deque()):  # expect: NC205
    history.append(step)
    return list(history)
