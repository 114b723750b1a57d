"""A client's scores on one instrument over time, as a server-rendered, accessible SVG.

Bands are shaded behind the line by severity; dates are spaced by real time. No JavaScript:
each point carries a <title> tooltip, and the chart's <desc> says in words what it shows.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from casework.assessments.instruments import Band

SEVERITY_FILL = {
    "none": "#e8f5e9",
    "low": "#fff8e1",
    "moderate": "#ffe0b2",
    "high": "#ffcdd2",
}
LINE = "#1a237e"  # dark navy: well above 4.5:1 against every band fill
INK = "#37474f"
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 36, 130, 12, 28
X_LABEL_GAP = 54  # px between date labels, room for "MM/DD/YY" at 10px
_ids = itertools.count(1)


@dataclass(frozen=True)
class Point:
    day: datetime.date
    total: int
    band: str


@dataclass(frozen=True)
class _Frame:
    """The plot area and the scales that map a score and a date into it."""

    left: float
    top: float
    width: float
    height: float
    lo: float
    hi: float
    first: datetime.date
    days: int

    def y(self, value: float) -> float:
        return self.top + (self.hi - value) / (self.hi - self.lo) * self.height

    def x(self, day: datetime.date) -> float:
        if self.days == 0:
            return self.left + self.width / 2
        return self.left + (day - self.first).days / self.days * self.width


def trend_svg(
    *, points: list[Point], bands: list[Band], title: str, width: int = 640, height: int = 240
) -> str:
    """The whole <svg> for these scores (any order) over these bands, titled and described."""
    ordered = sorted(points, key=lambda p: p.day)
    frame = _frame(ordered, bands, width, height)
    uid = f"trend-{next(_ids)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" font-family="sans-serif" font-size="10">',
        f'<title id="{uid}-title">{escape(title)}</title>',
        f'<desc id="{uid}-desc">{escape(describe(ordered))}</desc>',
        *_band_stripes(frame, bands),
        *_y_axis(frame, bands),
    ]
    if ordered:
        parts += [*_x_axis(frame, ordered), *_line(frame, ordered)]
    else:
        parts.append(_empty(frame))
    parts.append("</svg>")
    return "\n".join(parts)


def describe(points: Sequence[Point]) -> str:
    """A plain-language summary of the scores, oldest first, for screen readers."""
    ordered = sorted(points, key=lambda p: p.day)
    if not ordered:
        return "No signed scores yet"
    latest = ordered[-1]
    if len(ordered) == 1:
        return f"1 score on {_long(latest.day)}: {_score(latest)}"
    before = ordered[-2]
    trend = (
        "up from"
        if latest.total > before.total
        else "down from"
        if latest.total < before.total
        else "unchanged from"
    )
    return (
        f"{len(ordered)} scores from {_long(ordered[0].day)} to {_long(latest.day)}; "
        f"latest {_score(latest)}, {trend} {_score(before)}"
    )


def _frame(points: list[Point], bands: list[Band], width: int, height: int) -> _Frame:
    """Half a point of room above and below, so each whole score sits inside its band."""
    values = [b.min for b in bands] + [b.max for b in bands] + [p.total for p in points]
    lo, hi = (min(values), max(values)) if values else (0, 1)
    first = points[0].day if points else datetime.date.min
    days = (points[-1].day - first).days if points else 0
    return _Frame(
        left=MARGIN_LEFT,
        top=MARGIN_TOP,
        width=max(width - MARGIN_LEFT - MARGIN_RIGHT, 1),
        height=max(height - MARGIN_TOP - MARGIN_BOTTOM, 1),
        lo=lo - 0.5,
        hi=hi + 0.5,
        first=first,
        days=days,
    )


def _band_stripes(frame: _Frame, bands: list[Band]) -> list[str]:
    parts = []
    for band in bands:
        top, bottom = frame.y(band.max + 0.5), frame.y(band.min - 0.5)
        fill = SEVERITY_FILL.get(band.severity, SEVERITY_FILL["none"])
        parts.append(
            f'<rect class="band band-{escape(band.severity)}" x="{frame.left}" y="{top:.1f}" '
            f'width="{frame.width}" height="{bottom - top:.1f}" fill="{fill}">'
            f"<title>{escape(band.label)}: {band.min} to {band.max}</title></rect>"
        )
        parts.append(
            _text(frame.left + frame.width + 6, (top + bottom) / 2 + 3, band.label, "start")
        )
    return parts


def _y_axis(frame: _Frame, bands: list[Band]) -> list[str]:
    """Tick labels at each band's lower edge and at the top of the highest band."""
    ticks = {b.min for b in bands} | ({max(b.max for b in bands)} if bands else set())
    return [_text(frame.left - 4, frame.y(t) + 3, str(t), "end") for t in sorted(ticks)]


def _x_axis(frame: _Frame, points: list[Point]) -> list[str]:
    baseline = frame.top + frame.height
    parts = [
        f'<line x1="{frame.left}" y1="{baseline}" x2="{frame.left + frame.width}" '
        f'y2="{baseline}" stroke="{INK}" stroke-width="1"/>'
    ]
    for day in _thinned([p.day for p in points], frame.x):
        parts.append(_text(frame.x(day), baseline + 14, day.strftime("%m/%d/%y"), "middle"))
    return parts


def _thinned(days: list[datetime.date], x: Callable[[datetime.date], float]) -> list[datetime.date]:
    """The dates to label: the first, then each with room after the last kept; the newest
    date takes the place of the last kept one, so the latest score is always labelled."""
    unique = sorted(set(days))
    kept = [unique[0]]
    for day in unique[1:]:
        if x(day) - x(kept[-1]) >= X_LABEL_GAP:
            kept.append(day)
    if kept[-1] != unique[-1]:
        kept[-1] = unique[-1]
    return kept


def _line(frame: _Frame, points: list[Point]) -> list[str]:
    parts = []
    if len(points) > 1:
        coords = " ".join(f"{frame.x(p.day):.1f},{frame.y(p.total):.1f}" for p in points)
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{LINE}" stroke-width="2" '
            'stroke-linejoin="round"/>'
        )
    for p in points:
        parts.append(
            f'<circle cx="{frame.x(p.day):.1f}" cy="{frame.y(p.total):.1f}" r="3.5" '
            f'fill="{LINE}"><title>{escape(_long(p.day))}: {escape(_score(p))}</title></circle>'
        )
    return parts


def _empty(frame: _Frame) -> str:
    return _text(
        frame.left + frame.width / 2, frame.top + frame.height / 2, "No signed scores yet", "middle"
    )


def _text(x: float, y: float, content: str, anchor: str) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{INK}">'
        f"{escape(content)}</text>"
    )


def _long(day: datetime.date) -> str:
    return day.strftime("%m/%d/%Y")


def _score(point: Point) -> str:
    return f"{point.total} ({point.band})" if point.band else str(point.total)
