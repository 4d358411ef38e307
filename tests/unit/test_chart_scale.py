"""The dashboard chart's scale: round, evenly spaced values from 0 up to the largest bar."""

from __future__ import annotations

import pytest

from portal.review.chart import MOST_INTERVALS, nice_ticks


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (5, [0, 1, 2, 3, 4, 5]),
        (6, [0, 2, 4, 6]),
        (7, [0, 2, 4, 6, 8]),
        (10, [0, 2, 4, 6, 8, 10]),
        (11, [0, 5, 10, 15]),
        (100, [0, 20, 40, 60, 80, 100]),
        (101, [0, 50, 100, 150]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_ticks_are_round_steps_from_zero_to_the_largest(largest: int, ticks: list[int]) -> None:
    assert nice_ticks(largest) == ticks


def test_every_scale_is_even_and_reaches_the_largest() -> None:
    for largest in range(2001):
        ticks = nice_ticks(largest)
        step = ticks[1]
        magnitude = 10 ** (len(str(step)) - 1)
        assert ticks[0] == 0 and ticks[-1] >= largest, largest
        assert ticks == list(range(0, ticks[-1] + 1, step)), largest
        assert step in (magnitude, 2 * magnitude, 5 * magnitude), largest
        assert len(ticks) - 1 <= MOST_INTERVALS, largest
        assert largest == 0 or ticks[-2] < largest, largest  # no gridline above the tallest bar
