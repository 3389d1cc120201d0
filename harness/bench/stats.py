"""The statistics the benchmarks report: median and spread of a sample, and a paired bootstrap.

Pure Python (no numpy): samples here are a few dozen rounds at most.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, interquartile range, min and max; the IQR is 0 for a single value."""
    if not values:
        raise ValueError("spread() of no values")
    ordered = sorted(values)
    if len(ordered) > 1:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "median": statistics.median(ordered),
        "iqr": q3 - q1,
        "min": ordered[0],
        "max": ordered[-1],
    }


def bootstrap_ci(
    values: Sequence[float],
    statistic: Callable[[Sequence[float]], float],
    resamples: int,
    confidence: float,
    seed: int,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over ``values`` resampled with replacement.

    Pass per-pair values (e.g. B/A ratios of adjacent rounds) so that resampling keeps the pairs.
    """
    if not values:
        raise ValueError("bootstrap_ci() of no values")
    rng = random.Random(seed)
    n = len(values)
    estimates = sorted(
        statistic([values[rng.randrange(n)] for _ in range(n)]) for _ in range(resamples)
    )
    tail = (1.0 - confidence) / 2
    low = estimates[int(tail * (resamples - 1))]
    high = estimates[int(round((1.0 - tail) * (resamples - 1)))]
    return low, high
