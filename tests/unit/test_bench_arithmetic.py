"""The benches' own arithmetic: a figure that a bench misreads is worse than none."""

from __future__ import annotations

import math

import pytest

from bench.report import worst_between
from bench.results import percentile
from bridge.metrics import LOOP_DELAY_BUCKETS

BOUNDS = (*LOOP_DELAY_BUCKETS, math.inf)


def histogram(*delays: float) -> dict[float, float]:
    """Cumulative bucket counts, as Prometheus reports a histogram."""
    return {bound: float(sum(1 for d in delays if d <= bound)) for bound in BOUNDS}


@pytest.mark.parametrize(
    ("earlier", "meanwhile", "bound_ms"),
    [
        ((0.3, 0.001), (0.001, 0.004), 5.0),  # a slow start is not the exports'
        ((), (0.001, 0.02, 0.007), 25.0),
        ((0.04,), (0.03, 0.05), 50.0),  # a bucket's bound is inclusive
        ((), (0.051,), 100.0),
        ((), (), 5.0),  # nothing recorded: within the lowest bucket
        ((), (6.0,), math.inf),  # past the last bucket
    ],
)
def test_worst_between_two_readings_is_the_bound_of_the_highest_bucket_reached(
    earlier: tuple[float, ...], meanwhile: tuple[float, ...], bound_ms: float
) -> None:
    assert worst_between(histogram(*earlier), histogram(*earlier, *meanwhile)) == bound_ms


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [([1, 2, 3, 4], 50, 2), ([1, 2, 3, 4], 99, 4), ([5], 1, 5), (list(range(1, 101)), 99, 99)],
)
def test_percentile_is_the_nearest_rank(values: list[float], pct: float, expected: float) -> None:
    assert percentile(values, pct) == expected
