"""The report's charts as geometry for server-rendered SVG: weekly median and p90 lines, open tasks per person."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bridge.domain.report import Distribution, Week

WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
BAR_HEIGHT = 22


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # what the point says on hover (an SVG <title>)


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    plot_bottom: float
    plot_right: float
    median: tuple[Point, ...]
    p90: tuple[Point, ...]
    x_labels: tuple[tuple[float, str], ...]
    y_ticks: tuple[Tick, ...]
    empty: bool

    @staticmethod
    def path(points: Sequence[Point]) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)


@dataclass(frozen=True)
class Bar:
    y: float
    width: float
    label: str
    value: int


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bars: tuple[Bar, ...]


def weekly_chart(weeks: Sequence[Week], pick: Callable[[Week], Distribution]) -> LineChart:
    """Median and p90 (in business hours) per week; a week without values leaves a gap in neither line's data."""
    values = [(pick(week).median, pick(week).p90) for week in weeks]
    hours = [_hours(v) for pair in values for v in pair if v is not None]
    top = _nice_ceiling(max(hours, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(weeks) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(value: float) -> float:
        return TOP + plot_h - (value / top) * plot_h

    def points(index: int, name: str) -> tuple[Point, ...]:
        found = []
        for i, (week, pair) in enumerate(zip(weeks, values, strict=True)):
            value = pair[index]
            if value is not None:
                found.append(Point(x(i), y(_hours(value)), f"{week.label} {name}: {_hours(value):.1f} h"))
        return tuple(found)

    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        plot_bottom=TOP + plot_h,
        plot_right=WIDTH - RIGHT,
        median=points(0, "median"),
        p90=points(1, "p90"),
        x_labels=tuple((x(i), week.label.split("-")[1]) for i, week in enumerate(weeks)),
        y_ticks=tuple(Tick(y(top * n / 4), f"{top * n / 4:g} h") for n in range(5)),
        empty=not hours,
    )


def people_chart(people: Sequence[tuple[str, int]], *, limit: int = 15) -> BarChart:
    """Horizontal bars of open tasks per person, most loaded first (at most `limit` people)."""
    shown = list(people[:limit])
    label_width = 140
    most = max((count for _, count in shown), default=1)
    room = WIDTH - label_width - 48
    bars = tuple(
        Bar(8 + i * (BAR_HEIGHT + 6), max(room * count / most, 2.0), name, count)
        for i, (name, count) in enumerate(shown)
    )
    return BarChart(WIDTH, 16 + len(bars) * (BAR_HEIGHT + 6), label_width, bars)


def _hours(value: timedelta) -> float:
    return value.total_seconds() / 3600


def _nice_ceiling(value: float) -> float:
    """A round axis top at or above `value` (1, 2, 2.5, 5 times a power of ten); 1 for nothing to show."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= value:
            return float(factor * power)
    return float(10 * power)
