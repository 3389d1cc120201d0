"""The noise floor and the keep decision (harness.research.noise)."""

from __future__ import annotations

import pytest

from harness.research.noise import decide, noise_floor
from harness.research.settings import Objective

MIN = Objective("val_bpb", "min")


def test_noise_floor_uses_the_larger_of_stdev_and_scaled_mad() -> None:
    floor = noise_floor([2.0, 2.01, 2.02], sigmas=2.0, min_margin=0.0)
    assert floor.stdev == pytest.approx(0.01)
    assert floor.mad == pytest.approx(1.4826 * 0.01)
    assert floor.margin == pytest.approx(2 * 1.4826 * 0.01)


def test_min_margin_floors_a_zero_spread() -> None:
    assert noise_floor([2.0, 2.0, 2.0], 2.0, 0.003).margin == 0.003


def test_a_gain_inside_the_noise_is_discarded_without_confirming() -> None:
    floor = noise_floor([2.0, 2.01, 2.02], 2.0, 0.0)
    decision = decide(MIN, {42: 1.99}, {42: 2.0, 43: 2.01}, floor, 0, 0.0, 43)
    assert (decision.keep, decision.needs_confirm) == (False, False)
    assert decision.reason.endswith("within the noise")


def test_a_screen_win_must_be_confirmed_then_is_kept() -> None:
    floor = noise_floor([2.0, 2.01, 2.02], 2.0, 0.0)
    screen = decide(MIN, {42: 1.9}, {42: 2.0, 43: 2.01}, floor, 0, 0.0, 43)
    assert (screen.keep, screen.needs_confirm) == (False, True)
    final = decide(MIN, {42: 1.9, 43: 1.92}, {42: 2.0, 43: 2.01}, floor, 0, 0.0, 43)
    assert final.keep
    assert final.gains == pytest.approx((0.1, 0.09))
    assert final.confidence > 0.999


def test_a_win_that_does_not_reproduce_at_the_second_seed_is_discarded() -> None:
    floor = noise_floor([2.0, 2.01, 2.02], 2.0, 0.0)
    final = decide(MIN, {42: 1.8, 43: 2.02}, {42: 2.0, 43: 2.01}, floor, 0, 0.0, 43)
    assert not final.keep
    assert "did not reproduce" in final.reason


def test_the_simplicity_term_charges_added_lines() -> None:
    floor = noise_floor([2.0, 2.0, 2.0], 2.0, 0.01)
    free = decide(MIN, {42: 1.98}, {42: 2.0}, floor, 100, 0.0, None)
    charged = decide(MIN, {42: 1.98}, {42: 2.0}, floor, 100, 0.0002, None)
    assert free.keep
    assert not charged.keep
    assert charged.simplicity_cost == pytest.approx(0.02)


def test_a_max_objective_gains_when_the_score_rises() -> None:
    floor = noise_floor([100.0, 101.0, 102.0], 2.0, 0.0)
    decision = decide(
        Objective("tok_per_sec", "max"), {42: 110.0}, {42: 100.0}, floor, 0, 0.0, None
    )
    assert decision.keep
    assert decision.gain == pytest.approx(10.0)
