"""Read-only queries behind the organiser's registrations list and its exports.

`RegistrationFilters` is what the list's query string asks for, once checked (unknown values are
dropped, never an error); `registrations_select` turns it into one SELECT, so the page, the counts
and the CSV/XLSX exports always agree on who matches.

The text search is case- and accent-insensitive ("benali" finds "Bénali", "elodie" finds "Élodie")
on first and last name, email and organisation. SQLite and PostgreSQL fold accents differently (and
PostgreSQL needs the `unaccent` extension), so the words are matched in Python on the few columns
needed (`programme.domain.fold`), and the SELECT narrows to the matching ids. A few thousand
attendees take a few milliseconds.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from forum_app.checkin.models import CheckIn
from forum_app.extensions import db
from forum_app.programme.domain import clean_query, matches_text, search_text
from forum_app.programme.models import Event, Session
from forum_app.registration.models import (
    CATEGORIES,
    REGISTRATION_STATUSES,
    Delegation,
    Registration,
    WorkshopSeat,
)

PER_PAGE = 50
SORTS = ("name", "organisation", "date", "status")
DEFAULT_SORT = "name"
SEAT_STATES = ("confirmed", "waitlisted")
NO_DELEGATION = "aucune"  # ?delegation=aucune: people who came on their own
MAX_PAGE = 100_000


@dataclass(frozen=True)
class RegistrationFilters:
    q: str = ""
    status: str | None = None
    category: str | None = None
    territory: str | None = None
    delegation: int | str | None = None  # a delegation id, or NO_DELEGATION
    workshop: str | None = None  # a session code
    seat: str | None = None  # with `workshop`: only confirmed seats, or only waiting places
    arrived: bool | None = None  # entered the venue (an entrance check-in not undone)
    sort: str = DEFAULT_SORT
    page: int = 1

    @property
    def narrowing(self) -> bool:
        """True when something narrows the list (paging and sorting do not)."""
        return any(
            getattr(self, f.name) not in (None, "") for f in fields(self) if f.name not in ("sort", "page")
        )

    def query_args(self, **changes: object) -> dict[str, object]:
        """The query string that asks for these filters (with `changes`), without defaults."""
        values = replace(self, **changes) if changes else self
        args: dict[str, object] = {}
        for f in fields(values):
            value = getattr(values, f.name)
            if value in (None, "") or (f.name == "sort" and value == DEFAULT_SORT) or (f.name == "page" and value == 1):
                continue
            args[f.name] = ("oui" if value else "non") if f.name == "arrived" else value
        return args


def parse_filters(args: Mapping[str, str]) -> RegistrationFilters:
    """Filters from a query string; values that name nothing known are dropped."""

    def choice(name: str, allowed) -> str | None:
        value = (args.get(name) or "").strip()
        return value if value in allowed else None

    delegation: int | str | None = None
    raw_delegation = (args.get("delegation") or "").strip()
    if raw_delegation == NO_DELEGATION:
        delegation = NO_DELEGATION
    elif (raw_delegation.isascii() and raw_delegation.isdigit()) and len(raw_delegation) < 10:
        delegation = int(raw_delegation)
    workshop = (args.get("workshop") or "").strip().upper()[:16] or None
    raw_page = (args.get("page") or "").strip()
    page = int(raw_page) if (raw_page.isascii() and raw_page.isdigit()) and len(raw_page) < 7 else 1
    arrived = {"oui": True, "non": False}.get((args.get("arrived") or "").strip())
    territory = " ".join((args.get("territory") or "").split())[:200] or None
    return RegistrationFilters(
        q=clean_query(args.get("q")),
        status=choice("status", REGISTRATION_STATUSES),
        category=choice("category", CATEGORIES),
        territory=territory,
        delegation=delegation,
        workshop=workshop,
        seat=choice("seat", SEAT_STATES) if workshop else None,
        arrived=arrived,
        sort=choice("sort", SORTS) or DEFAULT_SORT,
        page=min(max(page, 1), MAX_PAGE),
    )


# --- Check-ins ------------------------------------------------------------------------------------


def _arrival_clause(arrived: bool):
    """Arrived = an entrance scan (no session) that checked the person in and was not undone."""
    entered = (
        sa.select(CheckIn.id)
        .where(
            CheckIn.registration_id == Registration.id,
            CheckIn.session_id.is_(None),
            CheckIn.outcome == "checked_in",
            CheckIn.undone_at.is_(None),
        )
        .exists()
    )
    return entered if arrived else ~entered


# --- The list -------------------------------------------------------------------------------------


def matching_ids(event: Event, q: str) -> list[int]:
    """Ids of the event's registrations whose name, email or organisation hold every word of `q`."""
    rows = db.session.execute(
        sa.select(
            Registration.id, Registration.first_name, Registration.last_name, Registration.email, Registration.organisation
        ).where(Registration.event_id == event.id)
    )
    return [row.id for row in rows if matches_text(q, search_text(row[1:]))]


def _sort_keys(sort: str):
    name = (sa.func.lower(Registration.last_name), sa.func.lower(Registration.first_name), Registration.id)
    if sort == "organisation":
        return (sa.func.lower(Registration.organisation), *name)
    if sort == "date":
        return (Registration.created_at.desc(), Registration.id.desc())
    if sort == "status":
        order = sa.case({status: i for i, status in enumerate(REGISTRATION_STATUSES)}, value=Registration.status, else_=99)
        return (order, *name)
    return name


def registrations_select(event: Event, filters: RegistrationFilters, *, with_status: bool = True):
    """SELECT of the event's registrations matching `filters`, sorted (no paging)."""
    query = sa.select(Registration).where(Registration.event_id == event.id)
    if filters.q:
        query = query.where(Registration.id.in_(matching_ids(event, filters.q)))
    if with_status and filters.status:
        query = query.where(Registration.status == filters.status)
    if filters.category:
        query = query.where(Registration.category == filters.category)
    if filters.territory:
        query = query.where(sa.func.lower(Registration.territory) == filters.territory.lower())
    if filters.delegation == NO_DELEGATION:
        query = query.where(Registration.delegation_id.is_(None))
    elif filters.delegation is not None:
        query = query.where(Registration.delegation_id == filters.delegation)
    if filters.workshop:
        seat = (
            sa.select(WorkshopSeat.id)
            .join(Session, Session.id == WorkshopSeat.session_id)
            .where(WorkshopSeat.registration_id == Registration.id, Session.event_id == event.id, Session.code == filters.workshop)
        )
        if filters.seat:
            seat = seat.where(WorkshopSeat.status == filters.seat)
        query = query.where(seat.exists())
    if filters.arrived is not None:
        clause = _arrival_clause(filters.arrived)
        if clause is not None:
            query = query.where(clause)
    return query.order_by(*_sort_keys(filters.sort))


def _with_details(query):
    return query.options(
        selectinload(Registration.seats).selectinload(WorkshopSeat.session),
        selectinload(Registration.delegation),
    )


@dataclass(frozen=True)
class Page:
    items: list[Registration]
    total: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.number * self.per_page, self.total)

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to link: first, last and those near the current one; None marks a gap."""
        shown = sorted({1, self.pages, *range(max(self.number - around, 1), min(self.number + around, self.pages) + 1)})
        out: list[int | None] = []
        for number in shown:
            if out and number - (out[-1] or 0) > 1:
                out.append(None)
            out.append(number)
        return out


def registrations_page(event: Event, filters: RegistrationFilters, per_page: int = PER_PAGE) -> Page:
    query = registrations_select(event, filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(math.ceil(total / per_page), 1)
    number = min(filters.page, pages)
    items = list(db.session.scalars(_with_details(query).limit(per_page).offset((number - 1) * per_page)))
    return Page(items, total, number, per_page)


def all_registrations(event: Event, filters: RegistrationFilters) -> list[Registration]:
    """Everyone matching `filters` (the exports: the list's filters, every page)."""
    return list(db.session.scalars(_with_details(registrations_select(event, filters))))


def status_counts(event: Event, filters: RegistrationFilters) -> dict[str, int]:
    """How many match the other filters in each status (every status present, 0 when none)."""
    matching = registrations_select(event, filters, with_status=False).order_by(None).subquery()
    rows = db.session.execute(sa.select(matching.c.status, sa.func.count()).group_by(matching.c.status))
    counts = dict.fromkeys(REGISTRATION_STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


# --- What the filters offer -----------------------------------------------------------------------


def territories(event: Event) -> list[str]:
    """The territories people gave, each once (first spelling met), in alphabetical order."""
    seen: dict[str, str] = {}
    for value in db.session.scalars(
        sa.select(Registration.territory).where(Registration.event_id == event.id, Registration.territory != "").distinct()
    ):
        seen.setdefault(value.lower(), value)
    return sorted(seen.values(), key=lambda value: search_text([value]))


def signup_sessions(event: Event) -> list[Session]:
    """The event's sessions with sign-up, in time order (what the workshop filter offers)."""
    return list(
        db.session.scalars(
            sa.select(Session)
            .where(Session.event_id == event.id, Session.signup_required.is_(True))
            .order_by(Session.starts_at, Session.code)
        )
    )


def delegations_with_counts(event: Event) -> list[tuple[Delegation, int, int]]:
    """(delegation, members, of whom still registered: not cancelled or rejected), by name."""
    active = sa.func.sum(sa.case((Registration.status.in_(("pending", "confirmed")), 1), else_=0))
    rows = db.session.execute(
        sa.select(Delegation, sa.func.count(Registration.id), sa.func.coalesce(active, 0))
        .outerjoin(Registration, Registration.delegation_id == Delegation.id)
        .where(Delegation.event_id == event.id)
        .group_by(Delegation.id)
        .order_by(sa.func.lower(Delegation.name))
    )
    return [(delegation, members, active_members) for delegation, members, active_members in rows]


def attendance(event: Event, session: Session) -> list[Registration]:
    """Confirmed people with a confirmed seat in `session`, by last name: the attendance sheet."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .join(WorkshopSeat, WorkshopSeat.registration_id == Registration.id)
            .where(
                Registration.event_id == event.id,
                Registration.status == "confirmed",
                WorkshopSeat.session_id == session.id,
                WorkshopSeat.status == "confirmed",
            )
            .order_by(sa.func.lower(Registration.last_name), sa.func.lower(Registration.first_name), Registration.id)
        )
    )

