"""Charts drawn on the server as SVG, with no JavaScript: each `Chart` carries its picture, a
legend, and the data table that goes under it (the accessible version of the same figures; the
picture is `role="img"` with a title and description, and says nothing the table does not).

Colours are the GOV.UK Design System's; every series is also told apart by its legend and its
table column, never by colour alone. SVG presentation attributes (`fill`, `stroke`) are not
styles, so the pages' strict content security policy allows them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

FONT = 'font-family="Arial, Helvetica, sans-serif"'
TEXT = "#0b0c0c"
AXIS = "#505a5f"
GRID = "#e6e6e6"
COLOURS = {
    "blue": "#1d70b8",
    "dark-blue": "#003078",
    "turquoise": "#28a197",
    "green": "#00703c",
    "orange": "#f47738",
    "red": "#d4351c",
    "purple": "#4c2c92",
    "pink": "#d53880",
    "brown": "#b58840",
    "grey": "#505a5f",
    "light-grey": "#b1b4b6",
    "yellow": "#ffdd00",
}
RAG_COLOURS = {"red": "#d4351c", "amber": "#f47738", "green": "#00703c", "not-rated": "#b1b4b6"}
PALETTE = (
    "#1d70b8",
    "#f47738",
    "#00703c",
    "#4c2c92",
    "#d53880",
    "#28a197",
    "#b58840",
    "#003078",
    "#d4351c",
    "#505a5f",
)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    colour: str = COLOURS["blue"]
    dashed: bool = False


@dataclass(frozen=True)
class Table:
    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric_from: int = 1  # columns from this one are numbers (right-aligned)


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    svg: Markup
    table: Table
    legend: tuple[tuple[str, str, bool], ...] = ()  # name, colour, dashed
    note: str = ""
    links: dict[str, str] = field(default_factory=dict)


def _nice_max(value: float) -> tuple[float, float]:
    """A round top for an axis reaching `value`, and its tick step (about 4-6 ticks)."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / 5
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * power
        if step >= raw:
            break
    top = math.ceil(value / step) * step
    return top, step


def _tick(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def _open(
    chart_id: str, title: str, description: str, width: int, height: int, role: str = "img"
) -> list[str]:
    """The SVG's opening: a picture (`img`), or a `group` when it holds links."""
    return [
        f'<svg class="app-chart__svg" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" role="{role}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = 13,
    fill: str = TEXT,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'font-weight="{weight}" fill="{fill}" {FONT}>{escape(text)}</text>'
    )


def _y_axis(
    parts: list[str],
    top: float,
    step: float,
    left: float,
    right: float,
    y0: float,
    y1: float,
    unit: str,
) -> None:
    ticks = round(top / step)
    for i in range(ticks + 1):
        value = step * i
        y = y1 - (y1 - y0) * value / top
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + 4, _tick(value), anchor="end", size=12, fill=AXIS))
    parts.append(
        f'<line x1="{left}" y1="{y1}" x2="{right}" y2="{y1}" stroke="{AXIS}" stroke-width="1"/>'
    )
    if unit:
        parts.append(_text(left, y0 - 6, unit, size=12, fill=AXIS))


def _x_labels(labels: Sequence[str], xs: Sequence[float], y: float) -> list[str]:
    every = max(1, math.ceil(len(labels) / 8))
    return [
        _text(x, y, label, anchor="middle", size=12, fill=AXIS)
        for i, (x, label) in enumerate(zip(xs, labels, strict=True))
        if i % every == 0 or (i == len(labels) - 1 and len(labels) <= 8)
    ]


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    table: Table,
    *,
    unit: str = "",
    y_max: float | None = None,
    note: str = "",
) -> Chart:
    """Lines over the months (a gap where a value is missing); a flat dashed series draws a
    reference such as a baseline."""
    width, height, left, right, top_pad, bottom = 640, 280, 56, 624, 28, 240
    values = [v for s in series for v in s.values if v is not None]
    top, step = _nice_max(y_max if y_max is not None else max(values, default=0) * 1.05)
    parts = _open(chart_id, title, description, width, height)
    _y_axis(parts, top, step, left, right, top_pad, bottom, unit)
    count = max(len(labels), 1)
    xs = [left + (right - left) * (i + 0.5) / count for i in range(count)]
    for s in series:
        segment: list[str] = []
        segments: list[list[str]] = []
        for x, value in zip(xs, s.values, strict=False):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            y = bottom - (bottom - top_pad) * min(value, top) / top
            segment.append(f"{x:.1f},{y:.1f}")
        if segment:
            segments.append(segment)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        for points in segments:
            if len(points) == 1:
                x, y = points[0].split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="3.5" fill="{s.colour}"/>')
            else:
                parts.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{s.colour}" '
                    f'stroke-width="2.5" stroke-linejoin="round"{dash}/>'
                )
                if not s.dashed and len(points) <= 36:
                    for point in points:
                        x, y = point.split(",")
                        parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{s.colour}"/>')
    parts += _x_labels(labels, xs, bottom + 20)
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        Markup("".join(parts)),  # noqa: S704 - every text is escaped above
        table,
        tuple((s.name, s.colour, s.dashed) for s in series),
        note,
    )


def stacked_bars(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    table: Table,
    *,
    unit: str = "",
    note: str = "",
) -> Chart:
    """One bar a month (or group), its parts stacked in series order from the bottom."""
    width, height, left, right, top_pad, bottom = 640, 280, 56, 624, 28, 240
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top, step = _nice_max(max(totals, default=0) * 1.02)
    parts = _open(chart_id, title, description, width, height)
    _y_axis(parts, top, step, left, right, top_pad, bottom, unit)
    count = max(len(labels), 1)
    slot = (right - left) / count
    bar = slot * 0.7
    xs = [left + slot * (i + 0.5) for i in range(count)]
    for i, x in enumerate(xs):
        base = 0.0
        for s in series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            y_top = bottom - (bottom - top_pad) * (base + value) / top
            h = (bottom - top_pad) * value / top
            parts.append(
                f'<rect x="{x - bar / 2:.1f}" y="{y_top:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{s.colour}"/>'
            )
            base += value
    parts += _x_labels(labels, xs, bottom + 20)
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        Markup("".join(parts)),  # noqa: S704 - every text is escaped above
        table,
        tuple((s.name, s.colour, False) for s in series),
        note,
    )


def bar_list(
    chart_id: str,
    title: str,
    description: str,
    items: Sequence[tuple[str, float, str]],
    table: Table,
    *,
    value_text: Sequence[str] | None = None,
    note: str = "",
) -> Chart:
    """Horizontal bars, one a row: label, value and colour."""
    row, label_width, width = 30, 210, 640
    height = max(row * len(items) + 16, 40)
    top, _step = _nice_max(max((v for _l, v, _c in items), default=0))
    parts = _open(chart_id, title, description, width, height)
    span = width - label_width - 90
    for i, (label, value, colour) in enumerate(items):
        y = 8 + i * row
        w = span * value / top if top else 0
        parts.append(_text(label_width - 8, y + 18, _short(label, 30), anchor="end"))
        parts.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{max(w, 0):.1f}" height="{row - 10}" fill="{colour}"/>'
        )
        shown = value_text[i] if value_text is not None else _tick(value)
        parts.append(_text(label_width + w + 6, y + 18, shown))
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        Markup("".join(parts)),  # noqa: S704 - every text is escaped above
        table,
        (),
        note,
    )


def grouped_bars(
    chart_id: str,
    title: str,
    description: str,
    groups: Sequence[str],
    series: Sequence[Series],
    table: Table,
    *,
    unit: str = "",
    note: str = "",
) -> Chart:
    """Side-by-side bars for each group (say, before and after go-live for each measure); with
    more than eight groups, one row a group, its bars across."""
    if len(groups) > 8:
        return _grouped_rows(chart_id, title, description, groups, series, table, unit, note)
    width, height, left, right, top_pad, bottom = 640, 280, 56, 624, 28, 232
    values = [v for s in series for v in s.values if v is not None]
    top, step = _nice_max(max(values, default=0) * 1.05)
    parts = _open(chart_id, title, description, width, height)
    _y_axis(parts, top, step, left, right, top_pad, bottom, unit)
    count = max(len(groups), 1)
    slot = (right - left) / count
    bar = slot * 0.75 / max(len(series), 1)
    for g, group in enumerate(groups):
        start = left + slot * g + slot * 0.125
        for k, s in enumerate(series):
            value = s.values[g]
            if value is None:
                continue
            h = (bottom - top_pad) * min(value, top) / top
            parts.append(
                f'<rect x="{start + k * bar:.1f}" y="{bottom - h:.1f}" width="{bar - 2:.1f}" '
                f'height="{h:.1f}" fill="{s.colour}"/>'
            )
        parts.append(
            _text(
                left + slot * (g + 0.5),
                bottom + 20,
                _short(group, int(slot / 7)),
                anchor="middle",
                size=12,
            )
        )
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        Markup("".join(parts)),  # noqa: S704 - every text is escaped above
        table,
        tuple((s.name, s.colour, False) for s in series),
        note,
    )


def _grouped_rows(
    chart_id: str,
    title: str,
    description: str,
    groups: Sequence[str],
    series: Sequence[Series],
    table: Table,
    unit: str,
    note: str,
) -> Chart:
    bar, label_width, width = 9, 190, 640
    row = bar * len(series) + 10
    height = row * len(groups) + 40
    values = [v for s in series for v in s.values if v is not None]
    top, step = _nice_max(max(values, default=0) * 1.05)
    span = width - label_width - 50
    parts = _open(chart_id, title, description, width, height)
    ticks = round(top / step)
    for i in range(ticks + 1):
        x = label_width + span * i / ticks
        parts.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 30}" stroke="{GRID}"/>')
        parts.append(_text(x, height - 14, _tick(step * i), anchor="middle", size=12, fill=AXIS))
    if unit:
        parts.append(_text(width - 8, height - 14, unit, anchor="end", size=12, fill=AXIS))
    for g, group in enumerate(groups):
        y = 6 + g * row
        parts.append(
            _text(label_width - 8, y + row / 2 + 3, _short(group, 26), anchor="end", size=12)
        )
        for k, s in enumerate(series):
            value = s.values[g]
            if value is None:
                continue
            w = span * min(value, top) / top
            parts.append(
                f'<rect x="{label_width}" y="{y + k * bar:.1f}" width="{w:.1f}" height="{bar - 1}" '
                f'fill="{s.colour}"/>'
            )
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        Markup("".join(parts)),  # noqa: S704 - every text is escaped above
        table,
        tuple((s.name, s.colour, False) for s in series),
        note,
    )


@dataclass(frozen=True)
class Span:
    """A row of the timeline: a planned span, and the days something happened on it."""

    label: str
    start: dt.date | None
    end: dt.date | None
    events: tuple[tuple[dt.date, str], ...] = ()  # (day, what) e.g. a hub's go-live
    colour: str = COLOURS["blue"]


def timeline(
    chart_id: str,
    title: str,
    description: str,
    spans: Sequence[Span],
    table: Table,
    *,
    today: dt.date,
    note: str = "",
) -> Chart:
    """The waves on a calendar: each planned span as a light bar ending at its target, each hub's
    go-live as a dark mark, and today as a line."""
    days = [d for s in spans for d in (s.start, s.end) if d] + [
        d for s in spans for d, _ in s.events
    ]
    first = min([*days, today]) - dt.timedelta(days=30)
    last = max([*days, today]) + dt.timedelta(days=30)
    first = dt.date(first.year, 1 if first.month <= 6 else 7, 1)
    last = dt.date(last.year + (1 if last.month > 6 else 0), 1 if last.month > 6 else 7, 1)
    row, label_width, width = 40, 150, 640
    height = row * len(spans) + 56
    right = width - 12
    total = (last - first).days or 1

    def x(day: dt.date) -> float:
        return label_width + (right - label_width) * (day - first).days / total

    parts = _open(chart_id, title, description, width, height)
    year = first.year
    while dt.date(year, 1, 1) <= last:
        day = dt.date(year, 1, 1)
        if day >= first:
            parts.append(
                f'<line x1="{x(day):.1f}" y1="8" x2="{x(day):.1f}" y2="{height - 36}" stroke="{GRID}"/>'
            )
            parts.append(_text(x(day), height - 20, str(year), anchor="middle", size=12, fill=AXIS))
        year += 1
    for i, span in enumerate(spans):
        y = 12 + i * row
        parts.append(_text(label_width - 8, y + 18, _short(span.label, 20), anchor="end"))
        start = span.start or span.end
        if start and span.end:
            parts.append(
                f'<rect x="{x(start):.1f}" y="{y + 6}" width="{max(x(span.end) - x(start), 4):.1f}" '
                f'height="{row - 16}" fill="{span.colour}" fill-opacity="0.25" stroke="{span.colour}"/>'
            )
        if span.end:
            parts.append(
                f'<line x1="{x(span.end):.1f}" y1="{y + 2}" x2="{x(span.end):.1f}" y2="{y + row - 6}" '
                f'stroke="{span.colour}" stroke-width="3"/>'
            )
        for day, what in span.events:
            parts.append(
                f'<rect x="{x(day) - 4:.1f}" y="{y + 10}" width="8" height="{row - 24}" fill="{TEXT}">'
                f"<title>{escape(what)}</title></rect>"
            )
    parts.append(
        f'<line x1="{x(today):.1f}" y1="4" x2="{x(today):.1f}" y2="{height - 36}" stroke="{COLOURS["red"]}" '
        f'stroke-width="2" stroke-dasharray="4 3"/>'
    )
    parts.append(
        _text(x(today), height - 4, "Today", anchor="middle", size=12, fill=COLOURS["red"])
    )
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        Markup("".join(parts)),  # noqa: S704 - every text is escaped above
        table,
        (
            ("Planned: to the target date", COLOURS["blue"], False),
            ("A hub went live", TEXT, False),
            ("Today", COLOURS["red"], True),
        ),
        note,
    )


@dataclass(frozen=True)
class Tile:
    column: int
    row: int
    short: str
    name: str
    href: str
    fill: str
    text: str
    status: str


def tile_map(
    chart_id: str,
    title: str,
    description: str,
    tiles: Sequence[Tile],
    table: Table,
    legend: Sequence[tuple[str, str]],
    *,
    note: str = "",
) -> Chart:
    """London's authorities as squares placed roughly where they lie, each a link to its page,
    coloured by the status given."""
    size, gap = 76, 6
    columns = max((t.column for t in tiles), default=0) + 1
    rows = max((t.row for t in tiles), default=0) + 1
    width, height = columns * (size + gap) + gap, rows * (size + gap) + gap
    parts = _open(chart_id, title, description, width, height, role="group")
    for tile in tiles:
        x, y = gap + tile.column * (size + gap), gap + tile.row * (size + gap)
        parts.append(
            f'<a href="{escape(tile.href)}" '
            f'aria-label="{escape(tile.short)}: {escape(tile.name)}, {escape(tile.status)}">'
            f"<title>{escape(tile.name)}: {escape(tile.status)}</title>"
            f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="3" fill="{tile.fill}" '
            f'stroke="{TEXT}" stroke-width="1"/>'
            + _text(
                x + size / 2,
                y + size / 2 + 6,
                tile.short,
                anchor="middle",
                size=17,
                fill=tile.text,
                weight="bold",
            )
            + "</a>"
        )
    parts.append("</svg>")
    return Chart(
        chart_id,
        title,
        description,
        Markup("".join(parts)),  # noqa: S704 - every text is escaped above
        table,
        tuple((name, colour, False) for name, colour in legend),
        note,
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"
