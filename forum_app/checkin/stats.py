"""Arrival figures on plain values (no Flask, no database): buckets, breakdowns, the SVG bar chart.

- `bucket_arrivals` counts arrival times per 10 minutes of the event's local clock ("9 h 10" holds
  9:10:00 to 9:19:59 in Europe/Paris), over one local day, gaps filled with empty buckets.
- `breakdown` counts registered and arrived people per group (category, territory, delegation).
- `bar_chart_svg` draws the buckets as a server-rendered SVG that fills its box's width (positions
  in percent, texts at their CSS size): role="img" with an aria-label summary, <title> and <desc>;
  colours come from CSS classes (`chart-bar`, `chart-grid`...), never style attributes (the CSP
  forbids inline styles). The page shows the same figures as a table.

Every text a person reads is given by the caller (already translated): this module only counts
and lays out.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

BUCKET_MINUTES = 10
MIN_BUCKETS = 6  # a chart spans at least an hour, so a first arrival is not one lonely bar
MAX_BUCKETS = 24 * 60 // BUCKET_MINUTES  # one day


def french_clock(moment: datetime) -> str:
    """'9 h 00', '14 h 10' (the caller passes the page language's formatter)."""
    return f"{moment.hour} h {moment.minute:02d}"


# --------------------------------------------------------------------------- buckets


@dataclass(frozen=True)
class Bucket:
    start: datetime  # local, aware, on a multiple of `minutes`
    count: int
    minutes: int = BUCKET_MINUTES

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


def bucket_start(moment: datetime, tz_name: str, minutes: int = BUCKET_MINUTES) -> datetime:
    """The local start of the bucket holding `moment` (an aware datetime)."""
    local = moment.astimezone(ZoneInfo(tz_name))
    return local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)


def arrival_days(times: Iterable[datetime], tz_name: str) -> list[date]:
    """The local days that saw arrivals, in order."""
    zone = ZoneInfo(tz_name)
    return sorted({moment.astimezone(zone).date() for moment in times})


def bucket_arrivals(
    times: Iterable[datetime],
    tz_name: str,
    day: date,
    *,
    minutes: int = BUCKET_MINUTES,
    until: datetime | None = None,
    min_buckets: int = MIN_BUCKETS,
) -> list[Bucket]:
    """Arrivals of local `day` per `minutes`, from the first bucket with an arrival to the last one
    (or to `until`'s bucket when later and on that day: a live chart shows the quiet minutes
    since the last arrival). Empty list when nobody arrived that day."""
    zone = ZoneInfo(tz_name)
    counts: dict[tuple[int, int], int] = {}
    for moment in times:
        local = moment.astimezone(zone)
        if local.date() != day:
            continue
        key = (local.hour, local.minute - local.minute % minutes)
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        return []
    first, last = min(counts), max(counts)
    if until is not None:
        now = until.astimezone(zone)
        if now.date() == day:
            last = max(last, (now.hour, now.minute - now.minute % minutes))
    start = _slot(first, minutes)
    stop = _slot(last, minutes)
    per_day = 24 * 60 // minutes
    if stop - start + 1 < min_buckets:  # widen to an hour: earlier (never into the future), inside the day
        start = max(stop - min_buckets + 1, 0)
        stop = min(max(stop, start + min_buckets - 1), per_day - 1)
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    buckets = []
    for slot in range(start, stop + 1):
        hour, minute = divmod(slot * minutes, 60)
        # Wall-clock times of the day (a change to summer time skips an hour: its buckets stay empty).
        begin = midnight.replace(hour=hour, minute=minute)
        buckets.append(Bucket(begin, counts.get((hour, minute), 0), minutes))
    return buckets


def _slot(key: tuple[int, int], minutes: int) -> int:
    return (key[0] * 60 + key[1]) // minutes


def peak(buckets: Sequence[Bucket]) -> Bucket | None:
    """The busiest bucket (the earliest of equals); None when no bucket counts anyone."""
    best = max(buckets, key=lambda b: b.count, default=None)
    if best is None or best.count == 0:
        return None
    return next(b for b in buckets if b.count == best.count)


# --------------------------------------------------------------------------- breakdowns


def percent(part: int, whole: int) -> int | None:
    """Whole percent, rounded down (99 % until the last one arrives); None for an empty group."""
    if whole <= 0:
        return None
    return part * 100 // whole


@dataclass(frozen=True)
class BreakdownRow:
    key: str
    label: str
    registered: int
    arrived: int

    @property
    def expected(self) -> int:
        return self.registered - self.arrived

    @property
    def percent(self) -> int | None:
        return percent(self.arrived, self.registered)


def breakdown(people: Iterable[tuple[str, str, bool]], *, last: str | None = None) -> list[BreakdownRow]:
    """(group key, label, arrived) per registered person -> one row per group, the largest groups
    first (then by label). The first label met names its group; the group `last` (for instance
    "not given") goes to the end whatever its size."""
    labels: dict[str, str] = {}
    registered: dict[str, int] = {}
    arrived: dict[str, int] = {}
    for key, label, came in people:
        labels.setdefault(key, label)
        registered[key] = registered.get(key, 0) + 1
        if came:
            arrived[key] = arrived.get(key, 0) + 1
    rows = [BreakdownRow(key, labels[key], registered[key], arrived.get(key, 0)) for key in registered]
    rows.sort(key=lambda row: (row.key == last, -row.registered, row.label.casefold(), row.key))
    return rows


# --------------------------------------------------------------------------- the chart
#
# The chart fills the width of its box, whatever the screen: horizontal positions are percentages
# of the SVG's width (no viewBox), vertical ones pixels of a fixed height. So the bars stretch on a
# laptop and squeeze on a phone while the texts keep their size (CSS sets it).

LEFT, RIGHT = 8.0, 1.5  # % of the width: room for the figures of the y axis, and a margin
TOP, PLOT, BOTTOM = 22, 176, 30  # px: room above the highest bar, the bars, the time labels
HEIGHT = TOP + PLOT + BOTTOM
BAR_SHARE = 0.72  # of a bucket's width, the rest is the gap between bars
DENSE = 16  # more buckets than this: phones hide the figures above the bars (CSS)
VERY_DENSE = 48  # more than this: every screen hides them


def nice_step(highest: int, ticks: int = 4) -> int:
    """A round step (1, 2, 5, 10, 20, 25, 50, 100...) giving about `ticks` gridlines up to `highest`."""
    if highest <= ticks:
        return 1
    raw = highest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw and float(step).is_integer():
            return int(step)
    return int(10 * magnitude)


def time_label_every(count: int, minutes: int = BUCKET_MINUTES) -> int:
    """Minutes between two time labels: at most about six labels, so they fit a phone."""
    span = count * minutes
    for every in (30, 60, 120, 180, 240):
        if span <= every * 6:
            return every
    return 360


def _pct(value: float) -> str:
    return f"{round(value, 3):g}%"


def _px(value: float) -> str:
    return f"{round(value, 1):g}"


def bar_chart_svg(
    buckets: Sequence[Bucket],
    *,
    title: str,
    description: str,
    label: str,
    bar_title: Callable[[Bucket], str],
    time_label: Callable[[datetime], str] = french_clock,
    number: Callable[[int], str] = str,
    id_prefix: str = "chart",
) -> Markup:
    """An SVG bar chart of `buckets` (one bar each, its figure above it, time labels under it).

    `label` is the summary screen readers announce (aria-label), `title`/`description` go into
    <title>/<desc>, `bar_title(bucket)` is each bar's tooltip. All texts are escaped here.
    """
    count = max(len(buckets), 1)
    highest = max((b.count for b in buckets), default=0)
    step = nice_step(highest)
    top_value = max(step * math.ceil(highest / step), step)
    base = TOP + PLOT
    slot = (100 - LEFT - RIGHT) / count

    def y(value: int) -> float:
        return base - value * PLOT / top_value

    def x(index: float) -> float:
        return LEFT + index * slot

    classes = ["chart-svg"]
    if len(buckets) > DENSE:
        classes.append("chart-dense")
    if len(buckets) > VERY_DENSE:
        classes.append("chart-very-dense")
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="{" ".join(classes)}" role="img" '
            f'width="100%" height="{HEIGHT}" aria-label="{escape(label)}" aria-describedby="{desc_id}" focusable="false">'
        ),
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        '<g class="chart-grid">',
    ]
    for value in range(0, top_value + 1, step):
        out.append(f'<line x1="{_pct(LEFT)}" x2="{_pct(100 - RIGHT)}" y1="{_px(y(value))}" y2="{_px(y(value))}"/>')
    out.append("</g>")
    out.append('<g class="chart-axis-values">')
    for value in range(0, top_value + 1, step):
        out.append(
            f'<text x="{_pct(LEFT - 1)}" y="{_px(y(value) + 4)}" text-anchor="end">{escape(number(value))}</text>'
        )
    out.append("</g>")

    out.append('<g class="chart-bars">')
    for index, bucket in enumerate(buckets):
        if not bucket.count:
            continue
        top = y(bucket.count)
        out.append(
            f'<rect class="chart-bar" x="{_pct(x(index + (1 - BAR_SHARE) / 2))}" y="{_px(top)}" '
            f'width="{_pct(slot * BAR_SHARE)}" height="{_px(base - top)}"><title>{escape(bar_title(bucket))}</title></rect>'
        )
        out.append(
            f'<text class="chart-bar-value" x="{_pct(x(index + 0.5))}" y="{_px(top - 5)}" '
            f'text-anchor="middle">{escape(number(bucket.count))}</text>'
        )
    out.append("</g>")

    out.append(f'<line class="chart-baseline" x1="{_pct(LEFT)}" x2="{_pct(100 - RIGHT)}" y1="{base}" y2="{base}"/>')
    out.append('<g class="chart-axis-times">')
    every = time_label_every(len(buckets), buckets[0].minutes if buckets else BUCKET_MINUTES)
    for index, bucket in enumerate(buckets):
        if (bucket.start.hour * 60 + bucket.start.minute) % every:
            continue
        out.append(f'<line class="chart-tick" x1="{_pct(x(index))}" x2="{_pct(x(index))}" y1="{base}" y2="{base + 6}"/>')
        out.append(
            f'<text x="{_pct(x(index))}" y="{base + 20}" text-anchor="middle">{escape(time_label(bucket.start))}</text>'
        )
    out.append("</g></svg>")
    return Markup("".join(out))
