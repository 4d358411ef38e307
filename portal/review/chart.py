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


def _nice_maximum(largest: int) -> int:
    step = 1
    while step * 10 < largest:
        step *= 10
    for multiple in (1, 2, 5, 10):
        if step * multiple >= largest:
            return max(step * multiple, 1)
    return largest


def weekly_chart(weeks: list[Week]) -> Chart:
    top = _nice_maximum(max((week.total for week in weeks), default=0))
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
    ticks = [
        Tick(round(baseline - plot_height * value / top, 1), value)
        for value in sorted({0, top // 2, top})
    ]
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, baseline, LEFT)
