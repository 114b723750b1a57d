"""The trend chart: valid, accessible SVG whose geometry follows the scores and their dates."""

from __future__ import annotations

import datetime
import itertools
import xml.etree.ElementTree as ET

import pytest

from casework.assessments.instruments import Band
from casework.assessments.trends import Point, describe, trend_svg

SVG = "{http://www.w3.org/2000/svg}"
BANDS = [
    Band(0, 4, "Minimal", "none"),
    Band(5, 9, "Mild", "low"),
    Band(10, 14, "Moderate", "moderate"),
    Band(15, 19, "Moderately severe", "high"),
    Band(20, 27, "Severe", "high"),
]
D = datetime.date


def band_of(total: int) -> str:
    return next(b.label for b in BANDS if b.min <= total <= b.max)


def pt(day: datetime.date, total: int) -> Point:
    return Point(day=day, total=total, band=band_of(total))


FIVE = [
    pt(D(2026, 1, 15), 22),
    pt(D(2026, 3, 1), 16),
    pt(D(2026, 6, 10), 9),
    pt(D(2026, 9, 2), 18),
    pt(D(2026, 11, 20), 12),
]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 -- our own output, parsed to prove it is well-formed


def render(points: list[Point], title: str = "PHQ-9 over time") -> ET.Element:
    return parse(trend_svg(points=points, bands=BANDS, title=title))


def circles(svg: ET.Element) -> list[ET.Element]:
    return svg.findall(f".//{SVG}circle")


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.findall(f"{SVG}text")]


def test_chart_is_an_accessible_image_labelled_by_its_title_and_desc() -> None:
    svg = render(FIVE)
    assert svg.get("role") == "img"
    assert svg.get("viewBox") == "0 0 640 240"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "PHQ-9 over time"


def test_two_charts_on_one_page_have_distinct_ids() -> None:
    first, second = render(FIVE), render(FIVE)
    assert first.get("aria-labelledby") != second.get("aria-labelledby")


def test_viewbox_follows_the_given_size() -> None:
    svg = parse(trend_svg(points=FIVE, bands=BANDS, title="t", width=400, height=150))
    assert svg.get("viewBox") == "0 0 400 150"


def test_desc_summarises_count_span_and_latest_change() -> None:
    assert describe(FIVE) == (
        "5 scores from 01/15/2026 to 11/20/2026; "
        "latest 12 (Moderate), down from 18 (Moderately severe)"
    )


def test_desc_says_up_and_unchanged() -> None:
    up = [pt(D(2026, 1, 1), 3), pt(D(2026, 2, 1), 7)]
    same = [pt(D(2026, 1, 1), 7), pt(D(2026, 2, 1), 7)]
    assert describe(up).endswith("latest 7 (Mild), up from 3 (Minimal)")
    assert describe(same).endswith("latest 7 (Mild), unchanged from 7 (Mild)")


def test_desc_of_one_and_of_no_scores() -> None:
    assert describe([pt(D(2026, 4, 5), 11)]) == "1 score on 04/05/2026: 11 (Moderate)"
    assert describe([]) == "No signed scores yet"


def test_one_circle_per_point_with_a_tooltip() -> None:
    found = circles(render(FIVE))
    assert len(found) == 5
    tips = [c.findtext(f"{SVG}title") for c in found]
    assert tips[0] == "01/15/2026: 22 (Severe)"
    assert tips[-1] == "11/20/2026: 12 (Moderate)"


def test_one_shaded_rect_per_band_with_its_label_at_the_right() -> None:
    svg = render(FIVE)
    rects = svg.findall(f"{SVG}rect")
    assert len(rects) == len(BANDS)
    assert {r.get("fill") for r in rects} == {"#e8f5e9", "#fff8e1", "#ffe0b2", "#ffcdd2"}
    for band in BANDS:
        assert band.label in texts(svg)


def test_bands_stack_without_gaps_from_lowest_min_to_highest_max() -> None:
    rects = sorted(render(FIVE).findall(f"{SVG}rect"), key=lambda r: float(r.get("y", 0)))
    for upper, lower in itertools.pairwise(rects):
        bottom = float(upper.get("y", 0)) + float(upper.get("height", 0))
        assert bottom == pytest.approx(float(lower.get("y", 0)), abs=0.11)


def test_y_ticks_are_at_band_edges() -> None:
    labels = texts(render(FIVE))
    for tick in ("0", "5", "10", "15", "20", "27"):
        assert tick in labels


def test_a_higher_score_is_drawn_above_a_lower_one() -> None:
    found = circles(render([pt(D(2026, 1, 1), 3), pt(D(2026, 2, 1), 25)]))
    low, high = (float(c.get("cy", 0)) for c in found)
    assert high < low


def test_points_out_of_order_are_drawn_in_date_order() -> None:
    svg = render(list(reversed(FIVE)))
    xs = [float(c.get("cx", 0)) for c in circles(svg)]
    assert xs == sorted(xs)
    assert circles(svg)[0].findtext(f"{SVG}title") == "01/15/2026: 22 (Severe)"


def test_dates_are_spaced_by_real_time() -> None:
    points = [pt(D(2026, 1, 1), 5), pt(D(2026, 1, 11), 6), pt(D(2026, 4, 11), 7)]
    a, b, c = (float(e.get("cx", 0)) for e in circles(render(points)))
    assert (c - b) == pytest.approx(9 * (b - a), rel=0.05)


def test_title_with_html_and_unicode_is_escaped() -> None:
    raw = trend_svg(points=FIVE, bands=BANDS, title='<script>"Zoë" & Co</script>')
    assert "<script>" not in raw
    title = parse(raw).find(f"{SVG}title")
    assert title is not None and title.text == '<script>"Zoë" & Co</script>'


def test_band_label_with_markup_is_escaped() -> None:
    bands = [Band(0, 10, "<b>Low</b> & calm", "none"), Band(11, 20, "High", "high")]
    svg = parse(trend_svg(points=[], bands=bands, title="t"))
    assert "<b>Low</b> & calm" in texts(svg)


def test_no_points_says_so_and_draws_no_line() -> None:
    svg = render([])
    assert "No signed scores yet" in texts(svg)
    assert circles(svg) == []
    assert svg.find(f"{SVG}polyline") is None
    assert len(svg.findall(f"{SVG}rect")) == len(BANDS)


def test_one_point_is_just_a_circle() -> None:
    svg = render([pt(D(2026, 4, 5), 11)])
    assert len(circles(svg)) == 1
    assert svg.find(f"{SVG}polyline") is None
    assert "04/05/26" in texts(svg)


def test_fifty_points_render_with_thinned_date_labels() -> None:
    start = D(2025, 1, 1)
    points = [pt(start + datetime.timedelta(weeks=i), (i * 7) % 28) for i in range(50)]
    svg = render(points)
    assert len(circles(svg)) == 50
    polyline = svg.find(f"{SVG}polyline")
    assert polyline is not None and len(polyline.get("points", "").split()) == 50
    dates = [t for t in texts(svg) if t.count("/") == 2]
    assert 2 <= len(dates) < 15
    assert dates[0] == "01/01/25" and dates[-1] == points[-1].day.strftime("%m/%d/%y")


def test_same_day_scores_do_not_divide_by_zero() -> None:
    svg = render([pt(D(2026, 4, 5), 11), pt(D(2026, 4, 5), 14)])
    assert len(circles(svg)) == 2


def test_no_bands_still_draws_the_scores() -> None:
    svg = parse(trend_svg(points=FIVE, bands=[], title="t"))
    assert len(circles(svg)) == 5
    assert svg.findall(f"{SVG}rect") == []
