"""The queries behind the organisers' arrivals dashboard and the check-in audit trail (read only).

A handful of set-based queries, whatever the size of the forum: the confirmed registrations (a few
columns), the delegations, every scan of the event (a few columns, no ORM objects), the seats per
workshop. Reconciliation (`checkin.domain.reconcile`: one person's earliest scan is the arrival,
the others duplicates) and the counting (`checkin.stats`) then run in Python on those rows.

Figures:
- registered: confirmed registrations; arrived: those of them with an arrival at the entrance (a
  counted scan, not undone); still expected: the others (the no-shows, once the day has started).
- duplicates: counted entrance scans that are not the person's arrival (rescans, and the same
  person scanned at another station while offline); refusals: scans refused, per reason, at
  every door.
- per session with sign-up: its seats, the confirmed seats, the people scanned in at its door.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from forum_app import clock
from forum_app.auth.models import User
from forum_app.checkin import domain, stats
from forum_app.checkin.models import CheckIn
from forum_app.extensions import db
from forum_app.programme.domain import clean_query, fold, matches_text, search_text
from forum_app.programme.models import Event, Session
from forum_app.registration import services as registrations
from forum_app.registration.models import (
    CATEGORIES,
    Delegation,
    Registration,
    WorkshopSeat,
)

NO_SHOWS_SHOWN = 100  # the page lists at most this many; the registrations list has them all
NO_DELEGATION = "aucune"
NOT_GIVEN = ""  # territory or delegation key of the people who gave none


# --------------------------------------------------------------------------- the version (ETag)


def version(event: Event) -> str:
    """What the dashboard depends on, in one cheap query: scans (count, newest, how many undone),
    registrations (count, latest change), confirmed seats, delegations. Any change to the figures
    changes this string."""
    ev = event.id

    def scalar(query):
        return query.scalar_subquery()

    row = db.session.execute(
        sa.select(
            scalar(sa.select(sa.func.count(CheckIn.id)).where(CheckIn.event_id == ev)),
            scalar(sa.select(sa.func.max(CheckIn.id)).where(CheckIn.event_id == ev)),
            scalar(sa.select(sa.func.count(CheckIn.undone_at)).where(CheckIn.event_id == ev)),  # undos never revert
            scalar(sa.select(sa.func.count(Registration.id)).where(Registration.event_id == ev)),
            scalar(sa.select(sa.func.max(Registration.updated_at)).where(Registration.event_id == ev)),
            scalar(
                sa.select(sa.func.count(WorkshopSeat.id))
                .join(Session, Session.id == WorkshopSeat.session_id)
                .where(Session.event_id == ev, WorkshopSeat.status == "confirmed")
            ),
            scalar(sa.select(sa.func.count(Delegation.id)).where(Delegation.event_id == ev)),
            scalar(sa.select(sa.func.max(Delegation.id)).where(Delegation.event_id == ev)),
        )
    ).one()
    return "|".join(str(value) for value in (*row, event.programme_version))


# --------------------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class NoShowFilters:
    q: str = ""
    category: str | None = None
    delegation: int | str | None = None  # a delegation id, or NO_DELEGATION

    @property
    def narrowing(self) -> bool:
        return bool(self.q or self.category or self.delegation is not None)

    def query_args(self) -> dict[str, str]:
        args = {"q": self.q, "category": self.category or "", "delegation": str(self.delegation or "")}
        return {k: v for k, v in args.items() if v}


def parse_no_show_filters(args: Mapping[str, str]) -> NoShowFilters:
    """Filters of the no-shows list from a query string; values naming nothing known are dropped."""
    category = (args.get("category") or "").strip()
    raw = (args.get("delegation") or "").strip()
    delegation: int | str | None = None
    if raw == NO_DELEGATION:
        delegation = NO_DELEGATION
    elif (raw.isascii() and raw.isdigit()) and len(raw) < 10:
        delegation = int(raw)
    return NoShowFilters(
        q=clean_query(args.get("q")),
        category=category if category in CATEGORIES else None,
        delegation=delegation,
    )


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    last_name: str
    organisation: str
    email: str
    category: str
    territory: str
    delegation_id: int | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class SessionAttendance:
    session: Session
    capacity: int | None
    confirmed: int  # seats held (confirmed seats of pending or confirmed registrations)
    waitlisted: int
    scanned: int  # people let in at its door (not undone)

    @property
    def percent_of_confirmed(self) -> int | None:
        return stats.percent(self.scanned, self.confirmed)


@dataclass
class Dashboard:
    registered: int
    arrived: int
    days: list[date]
    day: date | None
    buckets: list[stats.Bucket]
    by_category: list[stats.BreakdownRow]
    by_territory: list[stats.BreakdownRow]
    by_delegation: list[stats.BreakdownRow]
    sessions: list[SessionAttendance]
    no_shows: list[Person]  # filtered, at most NO_SHOWS_SHOWN
    no_shows_matching: int  # how many the filters match
    delegations: list[tuple[int, str]]  # (id, name) for the filter
    duplicates: int
    duplicates_elsewhere: int  # of which scanned at another station than the arrival's
    refusals: list[tuple[str, int]]  # (outcome, scans), most frequent first
    clock_suspect: int  # scans whose station clock was not trusted
    stations: list[tuple[str, int, int]] = field(default_factory=list)  # (station, arrivals, duplicates)
    last_arrival: datetime | None = None

    @property
    def expected(self) -> int:
        return self.registered - self.arrived

    @property
    def percent_arrived(self) -> int | None:
        return stats.percent(self.arrived, self.registered)

    @property
    def refused(self) -> int:
        return sum(count for _, count in self.refusals)


def _rows(query) -> list:
    """Plain rows of a column SELECT (Core: no ORM bookkeeping per row; thousands of scans)."""
    return db.session.connection().execute(query).all()


def _confirmed_people(event: Event) -> list[Person]:
    rows = _rows(
        sa.select(
            Registration.id, Registration.first_name, Registration.last_name, Registration.organisation,
            Registration.email, Registration.category, Registration.territory, Registration.delegation_id,
        )
        .where(Registration.event_id == event.id, Registration.status == "confirmed")
        .order_by(sa.func.lower(Registration.last_name), sa.func.lower(Registration.first_name), Registration.id)
    )
    return [Person(*row) for row in rows]


def _entrance_scans(event: Event) -> dict[int, list[domain.Scan]]:
    """Registration id -> its counted, not undone scans at the entrance (what reconciliation needs)."""
    rows = _rows(
        sa.select(
            CheckIn.registration_id, CheckIn.id, CheckIn.scanned_at, CheckIn.received_at, CheckIn.clock_suspect,
            CheckIn.station,
        ).where(
            CheckIn.event_id == event.id,
            CheckIn.session_id.is_(None),
            CheckIn.registration_id.is_not(None),
            CheckIn.outcome.in_(domain.COUNTED),
            CheckIn.undone_at.is_(None),
        )
    )
    by_person: dict[int, list[domain.Scan]] = {}
    for registration_id, *scan in rows:
        by_person.setdefault(registration_id, []).append(domain.Scan(*scan))
    return by_person


def _outcome_counts(event: Event) -> tuple[Counter[str], int]:
    """Scans per outcome (every door), and how many had a station clock not trusted."""
    rows = _rows(
        sa.select(
            CheckIn.outcome, sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((CheckIn.clock_suspect, 1), else_=0)), 0)
        )
        .where(CheckIn.event_id == event.id)
        .group_by(CheckIn.outcome)
    )
    return Counter({outcome: count for outcome, count, _ in rows}), sum(int(suspect) for *_, suspect in rows)


def _people_at_doors(event: Event) -> dict[int, int]:
    """Session id -> people let in at its door (counted scans not undone, each person once)."""
    rows = _rows(
        sa.select(CheckIn.session_id, sa.func.count(sa.distinct(CheckIn.registration_id)))
        .where(
            CheckIn.event_id == event.id,
            CheckIn.session_id.is_not(None),
            CheckIn.registration_id.is_not(None),
            CheckIn.outcome.in_(domain.COUNTED),
            CheckIn.undone_at.is_(None),
        )
        .group_by(CheckIn.session_id)
    )
    return {session_id: count for session_id, count in rows}


def chart_day(days: list[date], event: Event, now: datetime) -> date | None:
    """The day the chart shows by default: today when it is a day of the forum with arrivals,
    else the last day with arrivals."""
    if not days:
        return None
    today = stats.bucket_start(now, event.timezone).date()
    return today if today in days else days[-1]


def build(event: Event, filters: NoShowFilters = NoShowFilters(), day: date | None = None) -> Dashboard:
    """Every figure of the dashboard (six set-based queries, whatever the number of people)."""
    people = _confirmed_people(event)
    delegations = _rows(
        sa.select(Delegation.id, Delegation.name, Delegation.territory)
        .where(Delegation.event_id == event.id)
        .order_by(sa.func.lower(Delegation.name))
    )
    reconciled = {rid: domain.reconcile(scans) for rid, scans in _entrance_scans(event).items()}
    confirmed_ids = {person.id for person in people}
    arrivals = {rid: r.arrival for rid, r in reconciled.items() if rid in confirmed_ids and r.arrival is not None}

    # Chart: arrivals of one local day, per 10 minutes.
    times = [scan.at for scan in arrivals.values()]
    days = stats.arrival_days(times, event.timezone)
    now = clock.now()
    if day not in days:
        day = chart_day(days, event, now)
    buckets = stats.bucket_arrivals(times, event.timezone, day, until=now) if day else []

    # Breakdowns.
    delegation_names = {row.id: row.name for row in delegations}
    delegation_territories = {row.id: row.territory for row in delegations}
    by_category = stats.breakdown((p.category, p.category, p.id in arrivals) for p in people)
    folded: dict[str, str] = {}

    def territory(person: Person) -> tuple[str, str]:
        value = " ".join((person.territory or delegation_territories.get(person.delegation_id, "") or "").split())
        key = folded.get(value)
        if key is None:
            key = folded[value] = fold(value)
        return key, value

    by_territory = stats.breakdown(((*territory(p), p.id in arrivals) for p in people), last=NOT_GIVEN)
    by_delegation = stats.breakdown(
        (
            (str(p.delegation_id) if p.delegation_id else NOT_GIVEN, delegation_names.get(p.delegation_id, ""), p.id in arrivals)
            for p in people
        ),
        last=NOT_GIVEN,
    )

    # Duplicates, refusals, stations.
    duplicates = elsewhere = 0
    station_arrivals: Counter[str] = Counter()
    station_duplicates: Counter[str] = Counter()
    for result in reconciled.values():
        if result.arrival is None:
            continue
        station_arrivals[result.arrival.station] += 1
        for duplicate in result.duplicates:
            duplicates += 1
            station_duplicates[duplicate.station] += 1
            if duplicate.station != result.arrival.station:
                elsewhere += 1
    outcomes, clock_suspect = _outcome_counts(event)
    refusals = {outcome: count for outcome, count in outcomes.items() if outcome in domain.REFUSALS}
    stations = sorted(
        ((name, station_arrivals[name], station_duplicates[name]) for name in station_arrivals | station_duplicates),
        key=lambda item: (-item[1], item[0].casefold()),
    )

    # Sessions with sign-up: seats, confirmed seats, people scanned in at the door.
    at_doors = _people_at_doors(event)
    sessions = [
        SessionAttendance(a.session, a.capacity, a.confirmed, a.waitlisted, at_doors.get(a.session.id, 0))
        for a in registrations.availability(event)
    ]

    # No-shows.
    missing = [p for p in people if p.id not in arrivals]
    matching = [p for p in missing if _matches(p, filters, delegation_names)]

    return Dashboard(
        registered=len(people),
        arrived=len(arrivals),
        days=days,
        day=day,
        buckets=buckets,
        by_category=by_category,
        by_territory=by_territory,
        by_delegation=by_delegation,
        sessions=sessions,
        no_shows=matching[:NO_SHOWS_SHOWN],
        no_shows_matching=len(matching),
        delegations=[(row.id, row.name) for row in delegations],
        duplicates=duplicates,
        duplicates_elsewhere=elsewhere,
        refusals=sorted(refusals.items(), key=lambda item: (-item[1], domain.OUTCOMES.index(item[0]))),
        clock_suspect=clock_suspect,
        stations=stations,
        last_arrival=max(times) if times else None,
    )


def _matches(person: Person, filters: NoShowFilters, delegation_names: dict[int, str]) -> bool:
    if filters.category and person.category != filters.category:
        return False
    if filters.delegation == NO_DELEGATION and person.delegation_id is not None:
        return False
    if isinstance(filters.delegation, int) and person.delegation_id != filters.delegation:
        return False
    if filters.q:
        haystack = search_text(
            [person.first_name, person.last_name, person.organisation, person.email, delegation_names.get(person.delegation_id)]
        )
        return matches_text(filters.q, haystack)
    return True


# --------------------------------------------------------------------------- the audit trail

AUDIT_PAGE = 50
AUDIT_MAX = 2000
ENTRANCE = "entree"  # ?door=entree: the venue entrance (scans at no session)
UNDONE = "annule"  # ?outcome=annule: scans an organiser undid


@dataclass(frozen=True)
class AuditFilters:
    outcome: str | None = None  # an outcome code, or UNDONE
    door: str | None = None  # ENTRANCE or a session code
    station: str | None = None
    q: str = ""
    limit: int = AUDIT_PAGE

    @property
    def narrowing(self) -> bool:
        return bool(self.outcome or self.door or self.station or self.q)

    def query_args(self, **changes) -> dict[str, str]:
        values = {"outcome": self.outcome, "door": self.door, "station": self.station, "q": self.q, "limit": self.limit}
        values.update(changes)
        if values["limit"] == AUDIT_PAGE:
            values["limit"] = None
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def parse_audit_filters(args: Mapping[str, str]) -> AuditFilters:
    outcome = (args.get("outcome") or "").strip()
    door = (args.get("door") or "").strip()[:16]
    station = " ".join((args.get("station") or "").split())[: domain.STATION_MAX]
    raw_limit = (args.get("limit") or "").strip()
    limit = int(raw_limit) if (raw_limit.isascii() and raw_limit.isdigit()) and len(raw_limit) < 6 else AUDIT_PAGE
    return AuditFilters(
        outcome=outcome if outcome in (*domain.OUTCOMES, UNDONE) else None,
        door=(ENTRANCE if door == ENTRANCE else door.upper()) or None,
        station=station or None,
        q=clean_query(args.get("q")),
        limit=min(max(limit, AUDIT_PAGE), AUDIT_MAX),
    )


@dataclass(frozen=True)
class AuditRow:
    scan: CheckIn
    person: str | None  # the name, when the scan names someone still known
    organisation: str
    door: str | None  # session code; None = the entrance
    staff: str | None
    undone_by: str | None


@dataclass
class AuditPage:
    rows: list[AuditRow]
    total: int
    stations: list[str]
    doors: list[tuple[str, str]]  # (code, title) of the sessions that saw scans

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


def _staff_name(user: User | None) -> str | None:
    if user is None:
        return None
    return user.name or user.email


def audit(event: Event, filters: AuditFilters) -> AuditPage:
    """The scans matching `filters`, newest first (at most `filters.limit`), with how many match."""
    query = sa.select(CheckIn).where(CheckIn.event_id == event.id)
    if filters.outcome == UNDONE:
        query = query.where(CheckIn.undone_at.is_not(None))
    elif filters.outcome:
        query = query.where(CheckIn.outcome == filters.outcome)
    if filters.door == ENTRANCE:
        query = query.where(CheckIn.session_id.is_(None))
    elif filters.door:
        query = query.join(Session, Session.id == CheckIn.session_id).where(Session.code == filters.door)
    if filters.station:
        query = query.where(sa.func.lower(CheckIn.station) == filters.station.lower())
    if filters.q:
        ids = _registration_ids_matching(event, filters.q)
        query = query.where(CheckIn.registration_id.in_(ids))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    scans = list(
        db.session.scalars(query.order_by(CheckIn.received_at.desc(), CheckIn.id.desc()).limit(filters.limit))
    )

    # Names, doors and staff of this page: three IN queries, whatever the number of rows.
    registration_ids = {s.registration_id for s in scans if s.registration_id}
    people = {
        row.id: row
        for row in db.session.execute(
            sa.select(Registration.id, Registration.first_name, Registration.last_name, Registration.organisation,
                      Registration.anonymised_at)
            .where(Registration.id.in_(registration_ids))
        )
    } if registration_ids else {}
    session_ids = {s.session_id for s in scans if s.session_id}
    codes = dict(
        db.session.execute(sa.select(Session.id, Session.code).where(Session.id.in_(session_ids))).all()
    ) if session_ids else {}
    user_ids = {s.user_id for s in scans if s.user_id} | {s.undone_by_id for s in scans if s.undone_by_id}
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))} if user_ids else {}

    rows = []
    for scan in scans:
        person = people.get(scan.registration_id)
        name = None
        organisation = ""
        if person is not None:
            name = f"{person.first_name} {person.last_name}".strip()
            organisation = person.organisation if person.anonymised_at is None else ""
        rows.append(
            AuditRow(
                scan=scan,
                person=name,
                organisation=organisation,
                door=codes.get(scan.session_id),
                staff=_staff_name(users.get(scan.user_id)),
                undone_by=_staff_name(users.get(scan.undone_by_id)),
            )
        )

    stations = sorted(
        set(
            db.session.scalars(
                sa.select(CheckIn.station).where(CheckIn.event_id == event.id, CheckIn.station != "").distinct()
            )
        ),
        key=str.casefold,
    )
    doors = list(
        db.session.execute(
            sa.select(Session.code, Session.title)
            .where(Session.event_id == event.id, Session.id.in_(sa.select(CheckIn.session_id).where(CheckIn.event_id == event.id)))
            .order_by(Session.starts_at, Session.code)
        ).all()
    )
    return AuditPage(rows=rows, total=total, stations=stations, doors=[(c, t) for c, t in doors])


def _registration_ids_matching(event: Event, q: str) -> list[int]:
    rows = db.session.execute(
        sa.select(Registration.id, Registration.first_name, Registration.last_name, Registration.email, Registration.organisation)
        .where(Registration.event_id == event.id)
    )
    return [row.id for row in rows if matches_text(q, search_text(row[1:]))]

