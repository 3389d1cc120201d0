# harness-golden: path=nanochat/report.py
"""Defaults evaluated once and shared by every call."""

from collections import defaultdict


def log_losses(loss, history=[]):  # expect: NC205
    history.append(loss)
    return history


def count_tokens(docs, counts={}):  # expect: NC205
    for doc in docs:
        counts[doc] = counts.get(doc, 0) + 1
    return counts


def group(rows, *, buckets=defaultdict(list)):  # expect: NC205
    for key, value in rows:
        buckets[key].append(value)
    return buckets


collect = lambda x, seen=set(): seen.add(x) or seen  # expect: NC205
