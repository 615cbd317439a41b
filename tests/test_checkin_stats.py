"""Arrival figures on plain values: buckets in the event's time zone, breakdowns, the SVG chart (no app)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

from forum_app.checkin import stats

PARIS = "Europe/Paris"
SVG = "{http://www.w3.org/2000/svg}"


def _utc(hour: int, minute: int, second: int = 0, day: int = 6) -> datetime:
    return datetime(2019, 6, day, hour, minute, second, tzinfo=UTC)


# --- buckets ---


def test_bucket_arrivals_counts_per_ten_minutes_of_paris_time():
    times = [_utc(6, 40), _utc(6, 49, 59), _utc(6, 50), _utc(7, 5), _utc(7, 9, 30)]  # 8 h 40 ... 9 h 09 in Paris

    buckets = stats.bucket_arrivals(times, PARIS, date(2019, 6, 6), min_buckets=1)

    assert [(b.start.hour, b.start.minute, b.count) for b in buckets] == [(8, 40, 2), (8, 50, 1), (9, 0, 2)]
    assert buckets[0].start.utcoffset() == timedelta(hours=2)
    assert buckets[-1].end.hour == 9 and buckets[-1].end.minute == 10


def test_bucket_arrivals_fills_quiet_minutes_with_empty_buckets():
    buckets = stats.bucket_arrivals([_utc(6, 40), _utc(7, 25)], PARIS, date(2019, 6, 6), min_buckets=1)

    assert [b.count for b in buckets] == [1, 0, 0, 0, 1]
    assert [stats.french_clock(b.start) for b in buckets] == ["8 h 40", "8 h 50", "9 h 00", "9 h 10", "9 h 20"]


def test_bucket_arrivals_keeps_only_the_local_day_asked():
    late_evening = _utc(22, 30, day=5)  # 0 h 30 on the 6th in Paris
    next_day = _utc(6, 0, day=7)

    buckets = stats.bucket_arrivals([late_evening, next_day], PARIS, date(2019, 6, 6), min_buckets=1)

    assert [(b.start.day, b.start.hour, b.start.minute, b.count) for b in buckets] == [(6, 0, 30, 1)]
    assert stats.arrival_days([late_evening, next_day], PARIS) == [date(2019, 6, 6), date(2019, 6, 7)]


def test_bucket_arrivals_of_a_day_without_arrivals_is_empty():
    assert stats.bucket_arrivals([_utc(6, 40)], PARIS, date(2019, 6, 7)) == []


def test_short_chart_widens_to_an_hour_backwards_not_into_the_future():
    buckets = stats.bucket_arrivals([_utc(7, 0)], PARIS, date(2019, 6, 6))

    assert len(buckets) == stats.MIN_BUCKETS
    assert stats.french_clock(buckets[0].start) == "8 h 10"
    assert stats.french_clock(buckets[-1].start) == "9 h 00"


def test_live_chart_runs_to_now_on_the_same_day_only():
    times = [_utc(6, 40)]

    today = stats.bucket_arrivals(times, PARIS, date(2019, 6, 6), until=_utc(7, 45), min_buckets=1)
    other_day = stats.bucket_arrivals(times, PARIS, date(2019, 6, 6), until=_utc(7, 45, day=7), min_buckets=1)

    assert stats.french_clock(today[-1].start) == "9 h 40" and today[-1].count == 0
    assert len(other_day) == 1


def test_peak_is_the_earliest_busiest_bucket():
    buckets = stats.bucket_arrivals([_utc(6, 41), _utc(6, 42), _utc(7, 1), _utc(7, 2)], PARIS, date(2019, 6, 6))

    top = stats.peak(buckets)

    assert (stats.french_clock(top.start), top.count) == ("8 h 40", 2)
    assert stats.peak([stats.Bucket(buckets[0].start, 0)]) is None


# --- breakdowns ---


def test_breakdown_counts_registered_and_arrived_per_group_largest_first():
    people = [
        ("elu", "Élu·e", True), ("collectivite", "Collectivité", True), ("collectivite", "Collectivité", False),
        ("collectivite", "Collectivité", True), ("association", "Association", False), ("elu", "Élu·e", False),
    ]

    rows = stats.breakdown(people)

    assert [(r.key, r.registered, r.arrived, r.expected, r.percent) for r in rows] == [
        ("collectivite", 3, 2, 1, 66),
        ("elu", 2, 1, 1, 50),
        ("association", 1, 0, 1, 0),
    ]


def test_breakdown_puts_the_not_given_group_last_and_keeps_the_first_spelling():
    people = [("", "", True), ("", "", False), ("", "", False), ("lille", "Lille", True), ("lille", "LILLE", False)]

    rows = stats.breakdown(people, last="")

    assert [(r.label, r.registered) for r in rows] == [("Lille", 2), ("", 3)]


def test_percent_rounds_down_and_is_none_for_an_empty_group():
    assert stats.percent(999, 1000) == 99
    assert stats.percent(1000, 1000) == 100
    assert stats.percent(0, 0) is None


def test_nice_step_gives_round_gridlines():
    assert [stats.nice_step(n) for n in (0, 3, 7, 18, 40, 95, 230)] == [1, 1, 2, 5, 10, 25, 100]


# --- the chart ---


def _chart(buckets, **texts):
    values = {
        "title": "Arrivées par tranche de 10 minutes",
        "description": "Une barre par tranche",
        "label": "De 8 h 40 à 9 h 10 : 5 arrivées",
        "bar_title": lambda b: f"{stats.french_clock(b.start)} : {b.count}",
    }
    values.update(texts)
    return stats.bar_chart_svg(buckets, **values)


def test_chart_is_an_accessible_image_with_title_desc_and_summary():
    buckets = stats.bucket_arrivals([_utc(6, 40), _utc(6, 41), _utc(7, 5)], PARIS, date(2019, 6, 6))

    svg = ET.fromstring(str(_chart(buckets)))

    assert svg.get("role") == "img"
    assert svg.get("aria-label") == "De 8 h 40 à 9 h 10 : 5 arrivées"
    assert svg.find(f"{SVG}title").text == "Arrivées par tranche de 10 minutes"
    assert svg.find(f"{SVG}desc").get("id") == svg.get("aria-describedby")


def test_chart_draws_one_bar_per_busy_bucket_with_its_figure_and_french_time_labels():
    buckets = stats.bucket_arrivals([_utc(6, 40), _utc(6, 41), _utc(7, 5)], PARIS, date(2019, 6, 6), min_buckets=1)

    svg = ET.fromstring(str(_chart(buckets)))

    bars = svg.findall(f".//{SVG}rect[@class='chart-bar']")
    assert len(bars) == 2
    assert float(bars[0].get("height")) == 2 * float(bars[1].get("height"))
    assert [b.find(f"{SVG}title").text for b in bars] == ["8 h 40 : 2", "9 h 00 : 1"]
    values = [t.text for t in svg.findall(f".//{SVG}text[@class='chart-bar-value']")]
    assert values == ["2", "1"]
    times = [t.text for t in svg.find(f".//{SVG}g[@class='chart-axis-times']").findall(f"{SVG}text")]
    assert times == ["9 h 00"]


def test_chart_labels_at_most_about_six_times_so_they_fit_a_phone():
    times = [_utc(5, 0) + timedelta(minutes=10 * i) for i in range(48)]  # 7 h 00 to 14 h 50 in Paris
    short = stats.bucket_arrivals(times[:18], PARIS, date(2019, 6, 6))  # 7 h 00 to 9 h 50
    long = stats.bucket_arrivals(times, PARIS, date(2019, 6, 6))

    def labels(buckets):
        svg = ET.fromstring(str(_chart(buckets)))
        return [t.text for t in svg.find(f".//{SVG}g[@class='chart-axis-times']").findall(f"{SVG}text")]

    assert labels(short) == ["7 h 00", "7 h 30", "8 h 00", "8 h 30", "9 h 00", "9 h 30"]
    assert labels(long) == ["8 h 00", "10 h 00", "12 h 00", "14 h 00"]  # every two hours, on even hours


def test_chart_fills_its_box_with_percent_positions_and_marks_dense_charts():
    few = stats.bucket_arrivals([_utc(6, 40)], PARIS, date(2019, 6, 6))
    many = stats.bucket_arrivals([_utc(5, 0), _utc(8, 0)], PARIS, date(2019, 6, 6))

    svg = ET.fromstring(str(_chart(few)))
    dense = ET.fromstring(str(_chart(many)))

    assert svg.get("width") == "100%" and svg.get("viewBox") is None
    bar = svg.find(f".//{SVG}rect[@class='chart-bar']")
    assert bar.get("x").endswith("%") and bar.get("width").endswith("%")
    assert svg.get("class") == "chart-svg"
    assert dense.get("class") == "chart-svg chart-dense"  # 19 buckets: phones hide the figures above the bars


def test_chart_uses_classes_never_style_attributes_and_escapes_texts():
    buckets = stats.bucket_arrivals([_utc(6, 40)], PARIS, date(2019, 6, 6))

    markup = str(_chart(buckets, title='<script>alert("x")</script>', label="A & B"))

    assert "style=" not in markup and "<script>" not in markup
    assert "&lt;script&gt;" in markup and 'aria-label="A &amp; B"' in markup
    assert re.search(r'class="chart-bar"', markup)
    ET.fromstring(markup)  # well-formed


def test_chart_figures_use_the_given_number_format():
    times = [_utc(6, 40)] * 1200
    buckets = stats.bucket_arrivals(times, PARIS, date(2019, 6, 6))

    markup = str(_chart(buckets, number=lambda n: f"{n:,}".replace(",", "\u202f")))

    assert "1\u202f200" in markup
