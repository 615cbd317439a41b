"""Pure programme rules on plain values: no Flask, no database. Tested without an app."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

SESSION_KINDS = ("plenary", "round-table", "workshop", "experience", "meeting", "reception", "lunch", "break")
PERSON_ROLES = ("speaker", "moderator", "witness", "rapporteur")

# --- Public programme: time slots, now/next, filters ---

PUBLIC_ROLE_ORDER = PERSON_ROLES
MAX_QUERY_LENGTH = 100  # longer searches are ignored, not truncated into something else
_WORD_SPLIT = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """Case- and accent-insensitive form for searching: 'Numérique Œuvre' -> 'numerique oeuvre'."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("œ", "oe").replace("æ", "ae")


def clean_query(raw: str | None) -> str:
    """The search as typed, spaces collapsed; '' when empty or absurdly long."""
    text = " ".join(_WORD_SPLIT.split((raw or "").strip()))
    if not text or len(text) > MAX_QUERY_LENGTH or not text.isprintable():
        return ""
    return text


def search_text(parts: Iterable[str | None]) -> str:
    """One folded haystack from the searchable texts of a session."""
    return "\n".join(fold(part) for part in parts if part)


def matches_text(query: str, haystack: str) -> bool:
    """Every word of `query` appears in the folded `haystack` (built by search_text)."""
    words = fold(query).split()
    return all(word in haystack for word in words)


def parse_day(raw: str | None, days: Iterable[date]) -> date | None:
    """'2019-06-06' -> that date when it is one of `days`; anything else -> None."""
    if not raw or len(raw) != 10:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if day in set(days) else None


def default_day(days: list[date], today: date) -> date:
    """Today when the event is on today, else its first day."""
    return today if today in days else days[0]


@dataclass(frozen=True)
class Filters:
    """The programme filters once checked: unknown values are dropped (None / '')."""

    day: date
    track: str | None = None  # track slug
    kind: str | None = None
    room: int | None = None  # room id
    q: str = ""

    @property
    def narrowing(self) -> bool:
        """True when something other than the day narrows the list."""
        return bool(self.track or self.kind or self.room is not None or self.q)

    def key(self) -> str:
        """A stable text for cache validators."""
        return f"{self.day.isoformat()}|{self.track or ''}|{self.kind or ''}|{self.room or ''}|{self.q}"

    def args(self, **changes) -> dict[str, str]:
        """Query-string arguments for a link keeping these filters (`changes` override, None drops)."""
        values = {"day": self.day.isoformat(), "track": self.track, "kind": self.kind, "room": self.room, "q": self.q}
        values.update(changes)
        return {name: str(value) for name, value in values.items() if value not in (None, "")}


def parse_filters(
    args: Mapping[str, str],
    *,
    days: list[date],
    today: date,
    track_slugs: Iterable[str],
    kinds: Iterable[str],
    room_ids: Iterable[int],
) -> Filters:
    """Filters from a query string; a value that names nothing known is ignored, never an error."""
    day = parse_day(args.get("day"), days) or default_day(days, today)
    track = args.get("track") or None
    if track not in set(track_slugs):
        track = None
    kind = args.get("kind") or None
    if kind not in set(kinds):
        kind = None
    room: int | None = None
    raw_room = (args.get("room") or "").strip()
    if (raw_room.isascii() and raw_room.isdigit()) and len(raw_room) < 10 and int(raw_room) in set(room_ids):
        room = int(raw_room)
    return Filters(day=day, track=track, kind=kind, room=room, q=clean_query(args.get("q")))


@dataclass(frozen=True)
class SessionFacts:
    """What the filters look at in a session, as plain values."""

    kind: str
    track: str | None  # slug
    room: int | None  # id
    text: str  # folded, from search_text()


def session_matches(facts: SessionFacts, filters: Filters) -> bool:
    """Track, kind, room and text filters (the day is chosen before)."""
    if filters.track and facts.track != filters.track:
        return False
    if filters.kind and facts.kind != filters.kind:
        return False
    if filters.room is not None and facts.room != filters.room:
        return False
    return not filters.q or matches_text(filters.q, facts.text)


def group_by_start(items: Iterable, start_of: Callable = lambda item: item.starts_at) -> list[tuple]:
    """[(start, [items starting then]), ...] in time order; order within a slot is kept."""
    slots: dict = {}
    for item in items:
        slots.setdefault(start_of(item), []).append(item)
    return sorted(slots.items(), key=lambda pair: pair[0])


@dataclass(frozen=True)
class NowNext:
    current: list
    upcoming: list

    @property
    def upcoming_start(self) -> datetime | None:
        return self.upcoming[0].starts_at if self.upcoming else None


def now_and_next(items: Iterable, now: datetime) -> NowNext:
    """Sessions under way at `now`, and those starting next (all that share the earliest later start).

    Items have aware `starts_at` / `ends_at`; a session is under way from its start (included) to its
    end (excluded).
    """
    items = list(items)
    current = [item for item in items if item.starts_at <= now < item.ends_at]
    later = [item for item in items if item.starts_at > now]
    if not later:
        return NowNext(current, [])
    first = min(item.starts_at for item in later)
    return NowNext(current, [item for item in later if item.starts_at == first])


def paragraphs(text: str | None) -> list[list[str]]:
    """Plain text -> paragraphs (split on blank lines), each a list of its lines."""
    if not text:
        return []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n[ \t]*\n", text.strip())
    return [[line.strip() for line in block.strip().split("\n")] for block in blocks if block.strip()]


def person_details(job_title: str | None, organisation: str | None) -> str:
    """'fonction, organisation' (either may be missing)."""
    return ", ".join(part.strip() for part in (job_title, organisation) if part and part.strip())


def person_line(name: str, job_title: str | None, organisation: str | None) -> str:
    """'Nom — fonction, organisation', or just the name."""
    details = person_details(job_title, organisation)
    return f"{name} — {details}" if details else name


def group_by_role(links: Iterable, role_of: Callable = lambda link: link.role) -> list[tuple[str, list]]:
    """[(role, [links])] in the order speakers, moderators, witnesses, rapporteurs, then unknown roles."""
    groups: dict[str, list] = {}
    for link in links:
        groups.setdefault(role_of(link), []).append(link)
    rank = {role: i for i, role in enumerate(PUBLIC_ROLE_ORDER)}
    return sorted(groups.items(), key=lambda pair: (rank.get(pair[0], len(rank)), pair[0]))


# Track colours: a fixed palette of classes (the CSP forbids style attributes). Every entry keeps
# white text at 4.5:1 or more, so a badge in a track's colour stays readable whatever was picked.
TRACK_PALETTE = {
    "red": "#b91c1c",
    "orange": "#c2410c",
    "amber": "#b45309",
    "yellow": "#a16207",
    "lime": "#4d7c0f",
    "green": "#15803d",
    "emerald": "#047857",
    "teal": "#0f766e",
    "cyan": "#0e7490",
    "sky": "#0369a1",
    "blue": "#1d4ed8",
    "indigo": "#4338ca",
    "violet": "#7c3aed",
    "purple": "#7e22ce",
    "fuchsia": "#a21caf",
    "pink": "#be185d",
    "rose": "#be123c",
    "brown": "#854d0e",
    "slate": "#475569",
    "stone": "#57534e",
}
DEFAULT_TRACK_COLOUR = "slate"
_HEX_COLOUR = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


def parse_colour(value: str | None) -> tuple[int, int, int] | None:
    """'#1d4ed8' / '1d4ed8' / '#14d' -> (r, g, b); anything else -> None."""
    match = _HEX_COLOUR.match((value or "").strip())
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two '#rrggbb' colours (1 to 21)."""
    la, lb = relative_luminance(parse_colour(a) or (0, 0, 0)), relative_luminance(parse_colour(b) or (0, 0, 0))
    light, dark = max(la, lb), min(la, lb)
    return (light + 0.05) / (dark + 0.05)


@lru_cache(maxsize=256)
def track_palette_name(colour: str | None) -> str:
    """The palette entry nearest to a track's colour (a 'redmean' distance, close to what eyes see)."""
    rgb = parse_colour(colour)
    if rgb is None:
        return DEFAULT_TRACK_COLOUR

    def distance(name: str) -> float:
        pr, pg, pb = parse_colour(TRACK_PALETTE[name])  # type: ignore[misc]
        mean_red = (rgb[0] + pr) / 2
        dr, dg, db = rgb[0] - pr, rgb[1] - pg, rgb[2] - pb
        return (2 + mean_red / 256) * dr * dr + 4 * dg * dg + (2 + (255 - mean_red) / 256) * db * db

    return min(TRACK_PALETTE, key=distance)


def event_status(start: date, end: date, today: date) -> str:
    """'ongoing', 'upcoming' or 'past' for an event running from `start` to `end` (dates at its venue)."""
    if today < start:
        return "upcoming"
    if today > end:
        return "past"
    return "ongoing"


# --- Clashes: one room or one person in two places at once ---
# Imports kept inside the section so the two sections can be edited independently.

ROOM_CLASH = "room"
PERSON_CLASH = "person"


@dataclass(frozen=True)
class SlotView:
    """What the clash rules need to know of a session: when, where, who."""

    id: int
    code: str
    starts_at: datetime
    ends_at: datetime
    room_id: int | None = None
    person_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Clash:
    """Two sessions that need the same room (`subject_id` = room id) or person (= person id) at once.

    `first` starts no later than `second` (ties: lower code first).
    """

    kind: str
    subject_id: int
    first: SlotView
    second: SlotView

    def involves(self, slot_id: int) -> bool:
        return slot_id in (self.first.id, self.second.id)


def overlaps(a: SlotView, b: SlotView) -> bool:
    """Strict overlap: a session ending at 10 h and one starting at 10 h do not clash."""
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def find_clashes(slots: Iterable[SlotView]) -> list[Clash]:
    """Every room clash and person clash, ordered by time, then room clashes before person clashes."""
    ordered = sorted(slots, key=lambda s: (s.starts_at, s.ends_at, s.code, s.id))
    clashes: list[Clash] = []
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if second.starts_at >= first.ends_at:
                break  # sorted by start: nothing later can overlap `first`
            if not overlaps(first, second):
                continue
            if first.room_id is not None and first.room_id == second.room_id:
                clashes.append(Clash(ROOM_CLASH, first.room_id, first, second))
            for person_id in sorted(first.person_ids & second.person_ids):
                clashes.append(Clash(PERSON_CLASH, person_id, first, second))
    return clashes


# --- Programme editing rules (organiser screens) ---

SESSION_CODE_PATTERN = re.compile(r"^[A-Z0-9]+$")
SESSION_CODE_MAX_LENGTH = 16
COLOUR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_CAPACITY = 100_000


def normalise_code(code: str) -> str:
    """Session codes are compared and stored upper-case, without surrounding spaces."""
    return (code or "").strip().upper()


def is_valid_code(code: str) -> bool:
    return 0 < len(code) <= SESSION_CODE_MAX_LENGTH and bool(SESSION_CODE_PATTERN.match(code))


def is_valid_colour(colour: str) -> bool:
    return bool(COLOUR_PATTERN.match(colour or ""))


def slugify(text: str) -> str:
    """'Immobilier d'entreprise' -> 'immobilier-d-entreprise'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def local_to_utc(day: date, at: time, tz_name: str) -> datetime:
    """A wall-clock time at the venue -> aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz_name)).astimezone(timezone.utc)


def utc_to_local(moment: datetime, tz_name: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz_name))


OUTSIDE_EVENT = "outside_event"
ENDS_BEFORE_START = "ends_before_start"


def session_time_problems(day: date, starts: time, ends: time, event_days: Iterable[date]) -> list[tuple[str, str]]:
    """(field, problem code) for each rule a session's timing breaks; the caller words the message."""
    problems: list[tuple[str, str]] = []
    if day not in set(event_days):
        problems.append(("day", OUTSIDE_EVENT))
    if ends <= starts:
        problems.append(("ends", ENDS_BEFORE_START))
    return problems
