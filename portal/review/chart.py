"""Geometry of the weekly deposits chart: stacked bars the template draws as plain SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import format_date

from portal.i18n import page_locale
from portal.models import DepositStatus
from portal.review.services import Week

WIDTH = 640
HEIGHT = 240
LEFT = 40  # room for the scale
BOTTOM = 30  # room for the week labels
TOP = 10
MOST_INTERVALS = 5  # gridlines on the scale, beside the baseline
# A week's label under its bar: day and month, as each language writes them short.
_SHORT_DAY_PATTERNS = {"fr": "dd/MM", "en": "MMM d"}


def short_day(day: date) -> str:
    """01/12 in French, Dec 1 in English: a week's start under its bar."""
    return format_date(day, _SHORT_DAY_PATTERNS.get(page_locale(), "dd/MM"))


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    status: DepositStatus
    count: int
    week: Week


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[tuple[float, Week]]
    baseline: float
    left: int

    @property
    def statuses(self) -> list[DepositStatus]:
        return list(DepositStatus)


def nice_ticks(largest: int, most_intervals: int = MOST_INTERVALS) -> list[int]:
    """The scale's values: from 0 up to at least `largest`, evenly spaced by a round step (1, 2
    or 5 times a power of ten), the smallest step needing at most `most_intervals` intervals.

    0 → [0, 1]; 5 → [0, 1, 2, 3, 4, 5]; 7 → [0, 2, 4, 6, 8]; 120 → [0, 50, 100, 150].
    """
    largest = max(largest, 1)
    magnitude = 1
    while True:
        for multiple in (1, 2, 5):
            step = multiple * magnitude
            intervals = -(-largest // step)  # ceiling division
            if intervals <= most_intervals:
                return [step * n for n in range(intervals + 1)]
        magnitude *= 10


def weekly_chart(weeks: list[Week]) -> Chart:
    scale = nice_ticks(max((week.total for week in weeks), default=0))
    top = scale[-1]
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(weeks), 1)
    bar_width = slot * 0.7
    baseline = float(HEIGHT - BOTTOM)
    bars: list[Bar] = []
    labels: list[tuple[float, Week]] = []
    for position, week in enumerate(weeks):
        x = LEFT + position * slot + (slot - bar_width) / 2
        y = baseline
        for status in DepositStatus:
            count = week.counts.get(status, 0)
            if not count:
                continue
            height = plot_height * count / top
            y -= height
            bars.append(
                Bar(
                    round(x, 1),
                    round(y, 1),
                    round(bar_width, 1),
                    round(height, 1),
                    status,
                    count,
                    week,
                )
            )
        labels.append((round(x + bar_width / 2, 1), week))
    ticks = [Tick(round(baseline - plot_height * value / top, 1), value) for value in scale]
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, baseline, LEFT)
