"""The noise floor and the keep decision: a change is kept only when its gain is not seed noise.

``research init`` trains the base over several seeds. Their spread is the noise floor: the
sample standard deviation and the MAD (scaled by 1.4826, which makes it estimate the standard
deviation for normal noise while one wild seed cannot inflate it). The noise is the larger of
the two and the margin is ``sigmas`` times it, never below ``min_margin``.

A candidate is compared with the current best at the same seed (same initialisation and data
order), so a comparison is a paired difference. Screening runs seed 42; a candidate whose gain,
less the simplicity cost of the lines it adds, clears the margin is run again at a second seed,
and is kept only when the gain reproduces there too (positive) and the mean of the two gains
clears the margin. The confidence is the one-sided normal probability that the true gain is
positive, given the two paired gains and the measured noise.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from harness.research.settings import Objective

MAD_TO_SIGMA = 1.4826  # MAD x this estimates sigma for normally distributed noise


@dataclass(frozen=True)
class NoiseFloor:
    scores: tuple[float, ...]
    mean: float
    stdev: float
    mad: float  # scaled median absolute deviation
    margin: float

    @property
    def noise(self) -> float:
        return max(self.stdev, self.mad)

    def as_dict(self) -> dict:
        return asdict(self)


def noise_floor(scores: Sequence[float], sigmas: float, min_margin: float) -> NoiseFloor:
    values = tuple(float(s) for s in scores)
    mean = statistics.fmean(values)
    stdev = statistics.stdev(values) if len(values) > 1 else 0.0
    median = statistics.median(values)
    mad = MAD_TO_SIGMA * statistics.median(abs(v - median) for v in values)
    return NoiseFloor(values, mean, stdev, mad, max(sigmas * max(stdev, mad), min_margin))


@dataclass(frozen=True)
class Decision:
    keep: bool
    needs_confirm: bool  # the screen passed; run the second seed before deciding
    gain: float  # mean paired gain over the seeds run (objective units, positive = better)
    gains: tuple[float, ...]
    margin: float
    noise: float
    simplicity_cost: float
    z: float
    confidence: float
    reason: str
    best_before: float

    def as_dict(self) -> dict:
        return asdict(self)


def decide(
    objective: Objective,
    scores: dict[int, float],  # seed -> candidate score
    best: dict[int, float],  # seed -> current best score (the same seeds where known)
    floor: NoiseFloor,
    lines_added: int,
    simplicity_per_line: float,
    confirm_seed: int | None,
) -> Decision:
    """Screen (one seed) or final (two seeds) decision for a candidate against the best."""
    best_mean = statistics.fmean(best.values())
    gains = tuple(
        objective.gain(score, best.get(seed, best_mean)) for seed, score in scores.items()
    )
    gain = statistics.fmean(gains)
    cost = simplicity_per_line * max(lines_added, 0)
    net = gain - cost
    noise = floor.noise
    z = net / (noise / math.sqrt(len(gains))) if noise > 0 else (math.inf if net > 0 else -math.inf)
    confidence = 0.5 * (1 + math.erf(z / math.sqrt(2))) if math.isfinite(z) else float(z > 0)
    base = dict(
        gain=gain, gains=gains, margin=floor.margin, noise=noise, simplicity_cost=cost,
        z=z, confidence=confidence, best_before=best.get(min(scores), best_mean),
    )  # fmt: skip
    shown = f"gain {gain:+.6f} (net {net:+.6f} after {cost:.6f} for {lines_added} lines) vs margin {floor.margin:.6f}"
    if net <= floor.margin:
        return Decision(False, False, reason=f"{shown}: within the noise", **base)
    is_confirmed = len(gains) > 1 or confirm_seed is None
    if not is_confirmed:
        return Decision(False, True, reason=f"{shown}: screen passed, confirming", **base)
    if any(g <= 0 for g in gains):
        return Decision(
            False, False, reason=f"{shown}: did not reproduce with a second seed ({gains})", **base
        )
    return Decision(True, False, reason=f"{shown}: kept at confidence {confidence:.3f}", **base)
