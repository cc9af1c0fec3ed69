"""Bar charts for the insights pages, laid out here and drawn as inline SVG by
templates/insights/_chart.html: no JavaScript, styled by classes in static/kindred.css (the
Content-Security-Policy allows no style attributes), readable by screen readers through a
<title> and <desc> and the data table printed beside each chart.

A series over time is drawn as vertical bars (days or weeks); a series of categories
(decisions by kind, searches that found nothing) as horizontal bars with their names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from forum.insights import Series

WIDTH = 640
HEIGHT = 220
LEFT = 44  # room for the value axis labels
TOP = 12
BOTTOM = 28  # room for the date labels
LABEL_WIDTH = 190  # horizontal charts: room for category names
ROW = 26
MAX_DATE_LABELS = 6
NAME_MAX = 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class Tick:
    """A gridline at `position` (y for vertical bars, x for horizontal) and its value."""

    position: float
    value: int


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    """Everything the template needs to draw one chart."""

    key: str
    title: str
    description: str
    width: int
    height: int
    horizontal: bool
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]
    # The plot area's left, top, right and bottom edges (for the axis lines).
    left: float
    top: float
    right: float
    bottom: float
    empty: bool


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2 or 5 times a power of ten that is at least `value` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def scale(max_value: int) -> tuple[int, int]:
    """The top of the value axis and the step between gridlines, both round numbers: at most
    four steps above zero."""
    if max_value <= 0:
        return 1, 1
    step = nice_ceiling(math.ceil(max_value / 4))
    return step * math.ceil(max_value / step), step


def _short(text: str) -> str:
    return text if len(text) <= NAME_MAX else text[: NAME_MAX - 1] + "…"


def describe(series: Series) -> str:
    """A sentence summing the chart up, for its <desc>."""
    points = series.points
    if not points or not any(value for _, value in points):
        return f"{series.title}: none in this period."
    if series.time:
        label, value = max(points, key=lambda point: point[1])
        return (
            f"{series.total:,} in all, from {points[0][0]} to {points[-1][0]}; the most, "
            f"{value:,}, on {'the week starting ' if series.label_heading.startswith('Week') else ''}"
            f"{label}. The table beside the chart has every value."
        )
    leaders = ", ".join(f"{label} ({value:,})" for label, value in points[:3])
    return f"{len(points)} in the chart; the most: {leaders}. The table beside it has them all."


def bar_chart(series: Series) -> Chart:
    """Lay out a series: vertical bars over time, horizontal bars for categories."""
    if series.time:
        return _vertical(series)
    return _horizontal(series)


def _vertical(series: Series) -> Chart:
    points = series.points
    top_value, step_value = scale(max((value for _, value in points), default=0))
    left, top, right, bottom = LEFT, TOP, WIDTH - 8, HEIGHT - BOTTOM
    plot_height = bottom - top
    slot = (right - left) / max(1, len(points))
    gap = min(2.0, slot * 0.2)
    bars = []
    for index, (label, value) in enumerate(points):
        height = plot_height * value / top_value
        bars.append(
            Bar(
                x=round(left + index * slot + gap / 2, 2),
                y=round(bottom - height, 2),
                width=round(max(0.5, slot - gap), 2),
                height=round(height, 2),
                label=label,
                value=value,
            )
        )
    ticks = tuple(
        Tick(round(bottom - plot_height * value / top_value, 2), value)
        for value in range(0, top_value + 1, step_value)
    )
    step = max(1, math.ceil(len(points) / MAX_DATE_LABELS))
    labels = tuple(
        Label(round(left + index * slot + slot / 2, 2), HEIGHT - 8, label[5:])
        for index, (label, _) in enumerate(points)
        if index % step == 0
    )
    return Chart(
        key=series.key,
        title=series.title,
        description=describe(series),
        width=WIDTH,
        height=HEIGHT,
        horizontal=False,
        bars=tuple(bars),
        ticks=ticks,
        labels=labels,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        empty=not any(value for _, value in points),
    )


def _horizontal(series: Series) -> Chart:
    points = series.points
    top_value, step_value = scale(max((value for _, value in points), default=0))
    height = TOP + ROW * max(1, len(points)) + BOTTOM
    left, top, right, bottom = LABEL_WIDTH, TOP, WIDTH - 8, height - BOTTOM
    plot_width = right - left
    bars = []
    labels = []
    for index, (label, value) in enumerate(points):
        y = top + index * ROW
        bars.append(
            Bar(
                x=left,
                y=y + 4,
                width=round(plot_width * value / top_value, 2),
                height=ROW - 8,
                label=label,
                value=value,
            )
        )
        labels.append(Label(left - 6, y + ROW / 2 + 5, _short(label)))
    ticks = tuple(
        Tick(round(left + plot_width * value / top_value, 2), value)
        for value in range(0, top_value + 1, step_value)
    )
    return Chart(
        key=series.key,
        title=series.title,
        description=describe(series),
        width=WIDTH,
        height=height,
        horizontal=True,
        bars=tuple(bars),
        ticks=ticks,
        labels=tuple(labels),
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        empty=not points,
    )
