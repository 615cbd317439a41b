"""Door check-in rules on plain values: no Flask, no database.

Outcome codes (the `outcome` of every answer of `POST /api/v1/e/<slug>/checkins`):

- `checked_in`          a valid badge, first arrival at this door (the entrance, or one session)
- `already_checked_in`  a valid badge whose holder already arrived at this door (a duplicate)
- `invalid`             not a badge of this forum: unreadable, truncated, altered, forged, unknown person
- `revoked`             an older issue of a badge that was reissued
- `cancelled`           the registration was cancelled or rejected (or the person's data erased)
- `wrong_event`         a genuine badge of another event of this site
- `not_confirmed`       a pending registration (approval mode) — not in DESIGN.md's first list:
                        the badges feature reports it and the station shows it as "not confirmed"
- `not_signed_up`       at a workshop door: the person holds no confirmed seat in that session

Only `checked_in` and `already_checked_in` are scans of a person actually let in ("counted").

Clocks. A station says when it scanned (`scanned_at`, late when it synced an offline queue); the
server notes when it heard of the scan (`received_at`). Every scan is accepted, but a `scanned_at`
more than `FUTURE_TOLERANCE` after `received_at` or more than `PAST_TOLERANCE` before it is flagged
`clock_suspect` and then not used: such a scan is placed at `received_at`. So a station's clock can
move an arrival at most `PAST_TOLERANCE` earlier or `FUTURE_TOLERANCE` later than the server heard it.

Reconciliation. Several stations (offline ones especially) may scan one person: of that person's
counted scans at one door, the earliest by effective time is the arrival, the others duplicates.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CHECKED_IN = "checked_in"
ALREADY_CHECKED_IN = "already_checked_in"
INVALID = "invalid"
REVOKED = "revoked"
CANCELLED = "cancelled"
WRONG_EVENT = "wrong_event"
NOT_CONFIRMED = "not_confirmed"
NOT_SIGNED_UP = "not_signed_up"
OUTCOMES = (CHECKED_IN, ALREADY_CHECKED_IN, INVALID, REVOKED, CANCELLED, WRONG_EVENT, NOT_CONFIRMED, NOT_SIGNED_UP)
COUNTED = (CHECKED_IN, ALREADY_CHECKED_IN)  # the person went in
REFUSALS = (INVALID, REVOKED, CANCELLED, WRONG_EVENT, NOT_CONFIRMED, NOT_SIGNED_UP)

# Badge statuses (forum_app.badges.domain's vocabulary) that refuse entry, as check-in outcomes.
_BADGE_REFUSALS = {
    "invalid": INVALID,
    "revoked": REVOKED,
    "cancelled": CANCELLED,
    "wrong_event": WRONG_EVENT,
    "not_confirmed": NOT_CONFIRMED,
}

FUTURE_TOLERANCE = timedelta(minutes=10)
PAST_TOLERANCE = timedelta(hours=24)

# Input limits of the API.
CLIENT_ID_MIN, CLIENT_ID_MAX = 8, 64
STATION_MAX = 100
BADGE_MAX = 512


@dataclass(frozen=True)
class Decision:
    outcome: str
    forced: bool = False  # let in by an organiser without a seat


def decide(
    badge_status: str,
    *,
    already_arrived: bool,
    session_given: bool = False,
    seat_held: bool = True,
    force: bool = False,
) -> Decision:
    """What a scan means at the door.

    `badge_status`: what the badge says (valid, invalid, revoked, cancelled, wrong_event,
    not_confirmed); `already_arrived`: the person has a counted, not undone arrival at this door;
    `session_given`: a workshop door; `seat_held`: the person holds a confirmed seat there (or the
    session needs none); `force`: an organiser lets them in without a seat.
    """
    if badge_status != "valid":
        if badge_status not in _BADGE_REFUSALS:
            raise ValueError(f"unknown badge status {badge_status!r}")
        return Decision(_BADGE_REFUSALS[badge_status])
    if already_arrived:
        return Decision(ALREADY_CHECKED_IN)
    if session_given and not seat_held:
        if force:
            return Decision(CHECKED_IN, forced=True)
        return Decision(NOT_SIGNED_UP)
    return Decision(CHECKED_IN)


def clock_suspect(scanned_at: datetime, received_at: datetime) -> bool:
    """The station's clock is too far from the server's to order arrivals with it."""
    return scanned_at > received_at + FUTURE_TOLERANCE or scanned_at < received_at - PAST_TOLERANCE


def effective_time(scanned_at: datetime, received_at: datetime, suspect: bool | None = None) -> datetime:
    """When the scan counts as made: the station's time when trusted, the server's otherwise."""
    if suspect is None:
        suspect = clock_suspect(scanned_at, received_at)
    return received_at if suspect else scanned_at


@dataclass(frozen=True)
class Scan:
    """One counted scan of a person at one door, as reconciliation sees it."""

    id: int
    scanned_at: datetime
    received_at: datetime
    clock_suspect: bool = False
    station: str = ""

    @property
    def at(self) -> datetime:
        return effective_time(self.scanned_at, self.received_at, self.clock_suspect)


@dataclass(frozen=True)
class Reconciled:
    arrival: Scan | None
    duplicates: tuple[Scan, ...]


def reconcile(scans: Iterable[Scan]) -> Reconciled:
    """The arrival (earliest effective time; then first heard; then first recorded) and the duplicates."""
    ordered = sorted(scans, key=lambda scan: (scan.at, scan.received_at, scan.id))
    if not ordered:
        return Reconciled(None, ())
    return Reconciled(ordered[0], tuple(ordered[1:]))


def valid_client_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and CLIENT_ID_MIN <= len(value) <= CLIENT_ID_MAX
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)
    )


def parse_scanned_at(value: object) -> datetime | None:
    """An ISO 8601 date and time with its UTC offset ("2019-06-06T09:12:00+02:00", "...Z"), or None."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 pushed past the calendar by the offset
        return None
