"""Registration use cases. Each function commits once and never reads the request.

CONTRACT (written first so the public pages, the organiser screens and the badges can be built
in parallel): signatures and docstrings below are what the other features call.

Seats. A registration whose status is pending or confirmed (`domain.ACTIVE_STATUSES`) holds its
workshop seats: `confirmed` (a place) or `waitlisted` (a place in the queue, served by earliest
`requested_at`, then id). A cancelled or rejected registration keeps its seat rows (history; the
counts survive an erasure) but they hold no place: count and list seats through the helpers here,
or filter on `Registration.status.in_(ACTIVE_STATUSES)`.

Locking. Every change of seats runs under a write lock so concurrent sign-ups for the last seats
never overbook: on PostgreSQL the sessions' rows are locked (`SELECT ... FOR UPDATE`, in id
order, then the registration being changed); on SQLite the write transaction starts with
`BEGIN IMMEDIATE` (see `db.begin_write`), writers queueing on a file lock next to the
database so the next one starts as soon as the previous one commits. Whatever is counted or
changed is re-read under the lock. `arrival order` is the order in which sign-ups got the
lock: `requested_at` is read while holding it.

Mail goes out after the commit (forum_app.registration.notifications); a mail failure is logged
and never undoes a registration.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as babel_gettext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from forum_app import clock
from forum_app.audit import actions as audit
from forum_app.audit import services as audit_log
from forum_app.errors import Conflict, InvalidInput, NotFound
from forum_app.db import begin_write
from forum_app.extensions import db
from forum_app.programme.models import Event, Session
from forum_app.registration import domain
from forum_app.registration.domain import (
    ACTIVE_STATUSES,
    N_,
    SEAT_CONFIRMED,
    SEAT_WAITLISTED,
)
from forum_app.registration.labels import FIELD_LABELS
from forum_app.registration.models import Delegation, Registration, WorkshopSeat

# Bumped when the consent text on the form changes; stored with each self-registration.
CONSENT_VERSION = "2026-1"
SOURCES = ("form", "import", "desk")
LANGUAGES = ("fr", "en")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ERASED_LAST_NAME = "Anonyme"


@dataclass
class RegistrationInput:
    """What a person (or an organiser, or a CSV row) gives to register. Plain values only."""

    first_name: str
    last_name: str
    email: str
    organisation: str = ""
    job_title: str = ""
    category: str = "autre"
    territory: str = ""
    delegation_id: int | None = None
    accessibility_needs: str = ""
    workshop_codes: list[str] = field(default_factory=list)
    consent: bool = False
    language: str = "fr"
    # Organiser entries only (source "import" or "desk"; ignored for the public form):
    # who gave the consent when it is not the person on the form ("delegation": the head of a
    # delegation, for a CSV import; "desk": given in person to an organiser); "" = CONSENT_VERSION.
    consent_version: str = ""
    # A speaker of one workshop who reports on another at the same time: the organiser knowingly
    # books both (the delegation import allows it only for people on both sessions' programme).
    overlaps_allowed: bool = False


@dataclass
class RegistrationOutcome:
    registration: Registration
    created: bool  # False: the email was already registered; nothing was changed, the link was re-sent
    waitlisted_codes: list[str] = field(default_factory=list)


@dataclass
class WorkshopAvailability:
    session: Session
    capacity: int | None
    confirmed: int
    waitlisted: int

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.confirmed, 0)




def gettext(french: str, /, **params: object) -> str:
    """The message in the page's language (the default language outside a request)."""
    return domain.render(french, params, babel_gettext)


def field_label(name: str) -> str:
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    return domain.FIELD_LABELS.get(name, name)


def problem_message(problem: domain.Problem) -> str:
    """The problem's clause in the page's language: 'ce champ est obligatoire.' / 'this field is required.'"""
    return problem.render(babel_gettext)


def problem_text(problem: domain.Problem) -> str:
    """The field and the problem in the page's language: 'Nom : ce champ est obligatoire.' (str(problem) in French)."""
    return gettext("%(field)s : %(message)s", field=field_label(problem.field), message=problem_message(problem))


class RegistrationInvalid(InvalidInput):
    """InvalidInput with every problem, also grouped by field (`by_field`) for forms.

    The messages are worded in the page's language when the error is raised."""

    def __init__(self, problems: Sequence[domain.Problem], *, what: str | None = None):
        problems = list(problems)
        what = gettext("L'inscription") if what is None else what
        if len(problems) == 1:
            message = gettext("%(what)s n'a pas été enregistrée. %(problem)s", what=what, problem=problem_text(problems[0]))
        else:
            message = gettext(
                "%(what)s n'a pas été enregistrée : %(count)d points à corriger.", what=what, count=len(problems)
            )
        super().__init__(message, [problem_text(p) for p in problems], field=problems[0].field if problems else None)
        self.items = problems
        self.by_field: dict[str, list[str]] = {}
        for problem in problems:
            self.by_field.setdefault(problem.field, []).append(problem_message(problem))


# --------------------------------------------------------------------------- reading


def signup_sessions(event: Event) -> list[Session]:
    """Sessions that need a sign-up, in time order."""
    return list(
        db.session.scalars(
            db.select(Session)
            .where(Session.event_id == event.id, Session.signup_required.is_(True))
            .order_by(Session.starts_at, Session.code)
        )
    )


def _active_seat_join():
    return sa.and_(Registration.id == WorkshopSeat.registration_id, Registration.status.in_(ACTIVE_STATUSES))


def availability(event: Event) -> list[WorkshopAvailability]:
    """Seats taken and waiting per sign-up session (one query)."""
    held = Registration.id.is_not(None)
    confirmed = sa.func.coalesce(
        sa.func.sum(sa.case((sa.and_(held, WorkshopSeat.status == SEAT_CONFIRMED), 1), else_=0)), 0
    )
    waiting = sa.func.coalesce(
        sa.func.sum(sa.case((sa.and_(held, WorkshopSeat.status == SEAT_WAITLISTED), 1), else_=0)), 0
    )
    rows = db.session.execute(
        db.select(Session, confirmed, waiting)
        .outerjoin(WorkshopSeat, WorkshopSeat.session_id == Session.id)
        .outerjoin(Registration, _active_seat_join())
        .where(Session.event_id == event.id, Session.signup_required.is_(True))
        .group_by(Session.id)
        .order_by(Session.starts_at, Session.code)
    ).all()
    return [
        WorkshopAvailability(session=s, capacity=s.capacity, confirmed=int(c), waitlisted=int(w)) for s, c, w in rows
    ]


def find_by_token(event: Event, token: str) -> Registration:
    """The registration behind a private link; NotFound (saying nothing) otherwise."""
    if not isinstance(token, str) or not _TOKEN_RE.match(token):
        raise NotFound(gettext("Ce lien n'est pas valide."))
    registration = db.session.scalar(
        db.select(Registration).where(
            Registration.event_id == event.id,
            Registration.access_token == token,
            Registration.anonymised_at.is_(None),
        )
    )
    if registration is None or not secrets.compare_digest(registration.access_token, token):
        raise NotFound(gettext("Ce lien n'est pas valide."))
    return registration


def get_registration(event: Event, registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFound(gettext("Cette inscription n'existe pas."))
    return registration


def seat_position(seat: WorkshopSeat) -> int | None:
    """1-based position in the waiting list, None for a confirmed seat."""
    if seat.status != SEAT_WAITLISTED or seat.registration.status not in ACTIVE_STATUSES:
        return None
    ahead = db.session.scalar(
        db.select(sa.func.count(WorkshopSeat.id))
        .join(Registration, _active_seat_join())
        .where(
            WorkshopSeat.session_id == seat.session_id,
            WorkshopSeat.status == SEAT_WAITLISTED,
            sa.or_(
                WorkshopSeat.requested_at < seat.requested_at,
                sa.and_(WorkshopSeat.requested_at == seat.requested_at, WorkshopSeat.id < seat.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def waitlist_positions(seats: Iterable[WorkshopSeat]) -> dict[int, int]:
    """seat id -> waiting-list position, for many seats at once (one query). Seats that hold a
    place, or belong to a cancelled or rejected registration, are left out."""
    wanted = [s for s in seats if s.status == SEAT_WAITLISTED]
    if not wanted:
        return {}
    session_ids = {s.session_id for s in wanted}
    rows = db.session.execute(
        db.select(WorkshopSeat.id, WorkshopSeat.session_id, WorkshopSeat.requested_at)
        .join(Registration, _active_seat_join())
        .where(WorkshopSeat.session_id.in_(session_ids), WorkshopSeat.status == SEAT_WAITLISTED)
    ).all()
    positions: dict[int, int] = {}
    for session_id in session_ids:
        queue = [domain.WaitingSeat(r.id, r.requested_at) for r in rows if r.session_id == session_id]
        positions.update(domain.waitlist_positions(queue))
    wanted_ids = {s.id for s in wanted}
    return {seat_id: pos for seat_id, pos in positions.items() if seat_id in wanted_ids}


def seats_with_positions(registration: Registration) -> list[tuple[WorkshopSeat, int | None]]:
    """The person's seats in time order, each with its waiting-list position (None: a place)."""
    seats = sorted(registration.seats, key=lambda s: (s.session.starts_at, s.session.code))
    positions = waitlist_positions(seats) if registration.status in ACTIVE_STATUSES else {}
    return [(seat, positions.get(seat.id)) for seat in seats]


def get_delegation(event: Event, delegation_id: int) -> Delegation:
    delegation = db.session.get(Delegation, delegation_id)
    if delegation is None or delegation.event_id != event.id:
        raise NotFound(gettext("Cette délégation n'existe pas."))
    return delegation


def delegations(event: Event) -> list[Delegation]:
    return list(db.session.scalars(db.select(Delegation).filter_by(event_id=event.id).order_by(Delegation.name)))


def create_delegation(
    event: Event, name: str, *, territory: str = "", contact_name: str = "", contact_email: str = ""
) -> Delegation:
    """A new delegation of the event (names are unique per event, whatever the case)."""
    clean_name, problem = domain.clean_text(name, "organisation", required=True)
    problems = [replace(problem, field="delegation")] if problem else []
    clean_territory, problem = domain.clean_text(territory, "territory")
    problems += [problem] if problem else []
    clean_contact, problem = domain.clean_text(contact_name, "organisation")
    problems += [replace(problem, field="delegation")] if problem else []
    email = ""
    if (contact_email or "").strip():
        email, problem = domain.normalise_email(contact_email)
        problems += [problem] if problem else []
    if problems:
        raise RegistrationInvalid(problems, what=gettext("La délégation"))
    taken = db.session.scalar(
        db.select(Delegation.id).where(
            Delegation.event_id == event.id, sa.func.lower(Delegation.name) == clean_name.lower()
        )
    )
    if taken:
        raise InvalidInput(gettext("La délégation « %(name)s » existe déjà.", name=clean_name), field="delegation")
    delegation = Delegation(
        event_id=event.id, name=clean_name, territory=clean_territory, contact_name=clean_contact, contact_email=email
    )
    db.session.add(delegation)
    db.session.commit()
    return delegation


# --------------------------------------------------------------------------- checking input


def _person_input(data: RegistrationInput) -> domain.PersonInput:
    return domain.PersonInput(
        first_name=data.first_name,
        last_name=data.last_name,
        email=data.email,
        organisation=data.organisation,
        job_title=data.job_title,
        category=data.category,
        territory=data.territory,
        accessibility_needs=data.accessibility_needs,
    )


def _slots(event: Event) -> dict[str, domain.Slot]:
    rows = db.session.execute(
        db.select(
            Session.id, Session.code, Session.title, Session.starts_at, Session.ends_at, Session.signup_required
        ).where(Session.event_id == event.id)
    ).all()
    return {
        r.code.upper(): domain.Slot(r.code, r.title, r.starts_at, r.ends_at, bool(r.signup_required), session_id=r.id)
        for r in rows
    }


def _delegation_problem(event: Event, delegation_id: int | None) -> domain.Problem | None:
    if delegation_id is None:
        return None
    found = db.session.scalar(
        db.select(Delegation.id).where(Delegation.id == delegation_id, Delegation.event_id == event.id)
    )
    return None if found else domain.Problem("delegation", N_("délégation inconnue pour cet événement."))


def check(
    event: Event, data: RegistrationInput, *, source: str = "form", now: datetime | None = None
) -> tuple[domain.CleanPerson | None, list[domain.Slot], list[domain.Problem]]:
    """Every problem with `data` (nothing is written): the clean person and chosen workshops, or
    the problems. Self-registration (source "form") also needs consent and an open window."""
    if source not in SOURCES:
        raise ValueError(f"unknown registration source {source!r}")
    by_person = source == "form"
    problems: list[domain.Problem] = []
    if by_person:
        window = domain.window_problem(event.registration_opens_at, event.registration_closes_at, now or clock.now())
        if window:
            problems.append(window)
    person, person_problems = domain.check_person(
        _person_input(data), consent=bool(data.consent), require_consent=by_person
    )
    problems += person_problems
    delegation_problem = _delegation_problem(event, data.delegation_id)
    if delegation_problem:
        problems.append(delegation_problem)
    slots = _slots(event).values()
    if data.overlaps_allowed and not by_person:
        # Each workshop checked on its own: codes and sign-up still apply, overlaps do not.
        chosen = []
        for code in domain.normalise_codes(data.workshop_codes):
            one, one_problems = domain.check_workshop_choice([code], slots)
            chosen += one
            problems += one_problems
        chosen.sort(key=lambda slot: (slot.starts_at, slot.code))
    else:
        chosen, workshop_problems = domain.check_workshop_choice(data.workshop_codes, slots)
        problems += workshop_problems
    if problems:
        return None, [], problems
    return person, chosen, []


# --------------------------------------------------------------------------- locking and seats


def _write_lock(session_ids: Iterable[int], *, refresh: Iterable[object] = ()) -> list[Session]:
    """Start the write transaction that changes seats; returns the sessions, locked and re-read,
    and re-reads the `refresh` objects (e.g. the registration being changed) under the lock.

    SQLite: queue behind the other writers, then BEGIN IMMEDIATE (one writer at a time).
    PostgreSQL: lock the sessions' rows in id order, then the refreshed rows (SELECT ... FOR UPDATE).
    """
    ids = sorted(set(session_ids))
    begin_write(db.session())
    sessions = []
    if ids:
        sessions = list(
            db.session.scalars(
                db.select(Session)
                .where(Session.id.in_(ids))
                .order_by(Session.id)
                .with_for_update(of=Session)
                .execution_options(populate_existing=True)
            )
        )
    for item in refresh:
        db.session.refresh(item, with_for_update=True)
    return sessions


def _confirmed_counts(session_ids: Iterable[int]) -> dict[int, int]:
    ids = list(session_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(WorkshopSeat.session_id, sa.func.count(WorkshopSeat.id))
        .join(Registration, _active_seat_join())
        .where(WorkshopSeat.session_id.in_(ids), WorkshopSeat.status == SEAT_CONFIRMED)
        .group_by(WorkshopSeat.session_id)
    ).all()
    return {session_id: int(count) for session_id, count in rows}


def _promote(sessions: Iterable[Session], *, skip_registration_id: int | None = None) -> list[WorkshopSeat]:
    """Give freed places to the first waiting people (under the write lock). Returns the seats
    promoted, except those of `skip_registration_id` (told about by another message)."""
    sessions = list(sessions)
    if not sessions:
        return []
    db.session.flush()
    counts = _confirmed_counts(s.id for s in sessions)
    promoted: list[WorkshopSeat] = []
    for session in sessions:
        waiting = list(
            db.session.scalars(
                db.select(WorkshopSeat)
                .join(Registration, _active_seat_join())
                .where(WorkshopSeat.session_id == session.id, WorkshopSeat.status == SEAT_WAITLISTED)
                .order_by(WorkshopSeat.requested_at, WorkshopSeat.id)
                .execution_options(populate_existing=True)
            )
        )
        by_id = {seat.id: seat for seat in waiting}
        chosen = domain.to_promote(
            session.capacity, counts.get(session.id, 0), [domain.WaitingSeat(s.id, s.requested_at) for s in waiting]
        )
        for item in chosen:
            seat = by_id[item.id]
            seat.status = SEAT_CONFIRMED
            if seat.registration_id != skip_registration_id:
                promoted.append(seat)
    db.session.flush()
    return promoted


def _take_seats(registration: Registration, sessions: Sequence[Session], stamp: datetime) -> list[WorkshopSeat]:
    """New seats (or waiting places) for `registration` in `sessions`, under the write lock."""
    counts = _confirmed_counts(s.id for s in sessions)
    seats = []
    for session in sessions:
        status = domain.allocate_seat(session.capacity, counts.get(session.id, 0))
        seat = WorkshopSeat(session=session, status=status, requested_at=stamp, created_at=stamp)
        registration.seats.append(seat)
        seats.append(seat)
    return seats


def _in_time_order(seats: Iterable[WorkshopSeat]) -> list[WorkshopSeat]:
    return sorted(seats, key=lambda s: (s.session.starts_at, s.session.code))


# --------------------------------------------------------------------------- mail


def _notify(kind: str, registration_id: int, session_id: int | None = None) -> None:
    """Send one message after the commit; any failure is logged, never raised."""
    try:
        from forum_app.registration import notifications

        notifications.send_later(kind, registration_id, session_id=session_id)
    except Exception:  # the data is committed; a message must not undo it
        current_app.logger.exception("Registration mail %r not sent for registration %s", kind, registration_id)


def _promoted_ids(seats: Iterable[WorkshopSeat]) -> list[tuple[int, int]]:
    """(registration id, session id) of promoted seats, read before the commit expires them."""
    return [(seat.registration_id, seat.session_id) for seat in seats]


def _notify_promoted(promoted: Iterable[tuple[int, int]]) -> None:
    for registration_id, session_id in promoted:
        _notify("promoted", registration_id, session_id)


# --------------------------------------------------------------------------- registering


def _by_email_key(event_id: int, key: str) -> Registration | None:
    return db.session.scalar(db.select(Registration).filter_by(event_id=event_id, email_key=key))


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _language(event: Event, language: str | None) -> str:
    if language in LANGUAGES:
        return language
    return event.default_locale if event.default_locale in LANGUAGES else "fr"


def _build(event: Event, person: domain.CleanPerson, data: RegistrationInput, source: str, moment: datetime):
    status = domain.initial_status(bool(event.approval_required), by_organiser=source != "form")
    return Registration(
        event_id=event.id,
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        email_key=person.email_key,
        organisation=person.organisation,
        job_title=person.job_title,
        category=person.category,
        territory=person.territory,
        delegation_id=data.delegation_id,
        accessibility_needs=person.accessibility_needs,
        language=_language(event, data.language),
        status=status,
        source=source,
        consent_at=moment if data.consent else None,
        consent_version=((source != "form" and data.consent_version) or CONSENT_VERSION) if data.consent else "",
        access_token=_new_token(),
        badge_serial=1,
        confirmed_at=moment if status == "confirmed" else None,
        seats=[],  # a known-empty collection: adding seats after the autoflush loads nothing
    )


def _duplicate(existing: Registration) -> RegistrationOutcome:
    _notify("link_resent", existing.id)
    return RegistrationOutcome(registration=existing, created=False)


def _welcome_kind(registration: Registration) -> str:
    return "received" if registration.status == "pending" else "confirmed"


def register(
    event: Event, data: RegistrationInput, *, source: str = "form", now: datetime | None = None, actor=None
) -> RegistrationOutcome:
    """Register one person; seats or waiting-list places for their workshops; emails them.

    Raises InvalidInput (with per-field problems) for bad data, overlapping workshops, registration
    closed. A known email (case-insensitive) creates nothing and re-sends the private link.

    `source`: "form" (the person themself: consent and the registration window apply, and the
    approval mode makes it pending), "import" or "desk" (an organiser: confirmed at once).
    `actor`: the organiser registering the person at the desk (recorded in the staff journal).
    """
    moment = now or clock.now()
    person, chosen, problems = check(event, data, source=source, now=moment)
    if problems:
        raise RegistrationInvalid(problems)
    assert person is not None
    event_id = event.id
    existing = _by_email_key(event_id, person.email_key)
    if existing is not None:
        return _duplicate(existing)
    try:
        locked = {s.id: s for s in _write_lock(slot.session_id for slot in chosen)}
        existing = _by_email_key(event_id, person.email_key)  # again, now that we hold the lock
        if existing is not None:
            db.session.rollback()
            return _duplicate(existing)
        registration = _build(event, person, data, source, moment)
        db.session.add(registration)
        stamp = now or clock.now()  # arrival order: read while holding the lock
        seats = _take_seats(registration, [locked[slot.session_id] for slot in chosen], stamp)
        db.session.flush()
        registration_id, kind = registration.id, _welcome_kind(registration)
        waitlisted = [seat.session.code for seat in seats if seat.status == SEAT_WAITLISTED]
        if actor is not None:
            audit.registration_created_at_desk(registration, actor, [seat.session.code for seat in seats], waitlisted)
        db.session.commit()
    except IntegrityError:
        # A double-clicked submit (or the same address at the same moment): one registration.
        db.session.rollback()
        existing = _by_email_key(event_id, person.email_key)
        if existing is None:
            raise
        return _duplicate(existing)
    _notify(kind, registration_id)
    return RegistrationOutcome(registration=registration, created=True, waitlisted_codes=waitlisted)


def register_many(
    event: Event,
    inputs: Sequence[RegistrationInput],
    *,
    source: str = "import",
    labels: Sequence[str] | None = None,
    notify: bool = True,
    now: datetime | None = None,
    actor=None,
) -> list[RegistrationOutcome]:
    """All or nothing: check every entry (and duplicates among them or with people already
    registered), then register them all in one transaction, in the order given.

    Raises InvalidInput whose problems are prefixed by each entry's label ("Ligne 3 : Nom : ...",
    `labels` defaults to "Personne 1", "Personne 2"...). Mails go out once everything is committed.
    """
    if labels is None:
        labels = [gettext("Personne %(num)d", num=i) for i in range(1, len(inputs) + 1)]
    labels = list(labels)
    if len(labels) != len(inputs):
        raise ValueError("one label per input")
    moment = now or clock.now()
    problems: list[str] = []
    checked: list[tuple[str, domain.CleanPerson, list[domain.Slot], RegistrationInput]] = []
    seen: dict[str, str] = {}
    for label, data in zip(labels, inputs):
        person, chosen, item_problems = check(event, data, source=source, now=moment)
        if person is not None:
            if person.email_key in seen:
                item_problems.append(
                    domain.Problem("email", N_("adresse déjà présente (%(label)s)."), {"label": seen[person.email_key]})
                )
            elif _by_email_key(event.id, person.email_key) is not None:
                item_problems.append(domain.Problem("email", _ALREADY_REGISTERED))
            else:
                seen[person.email_key] = label
        problems += [_labelled(label, p) for p in item_problems]
        if not item_problems and person is not None:
            checked.append((label, person, chosen, data))
    if problems:
        raise InvalidInput(
            gettext("Rien n'a été enregistré : %(num)d problème(s) à corriger.", num=len(problems)),
            problems=problems,
        )
    try:
        locked = {s.id: s for s in _write_lock(slot.session_id for _, _, chosen, _ in checked for slot in chosen)}
        taken = set(
            db.session.scalars(
                db.select(Registration.email_key).where(
                    Registration.event_id == event.id,
                    Registration.email_key.in_([person.email_key for _, person, _, _ in checked]),
                )
            )
        )
        if taken:  # registered by someone else since the check: refuse the whole batch
            db.session.rollback()
            raise InvalidInput(
                gettext("Rien n'a été enregistré : %(num)d problème(s) à corriger.", num=len(taken)),
                problems=[
                    _labelled(label, domain.Problem("email", _ALREADY_REGISTERED))
                    for label, person, _, _ in checked
                    if person.email_key in taken
                ],
                field="email",
            )
        outcomes = []
        welcome = []
        for _, person, chosen, data in checked:
            registration = _build(event, person, data, source, moment)
            db.session.add(registration)
            seats = _take_seats(registration, [locked[s.session_id] for s in chosen], now or clock.now())
            db.session.flush()
            waitlisted = [seat.session.code for seat in seats if seat.status == SEAT_WAITLISTED]
            outcomes.append(RegistrationOutcome(registration=registration, created=True, waitlisted_codes=waitlisted))
            welcome.append((_welcome_kind(registration), registration.id))
        if actor is not None:  # an organiser's import: one entry in the staff journal
            audit.registrations_imported(event, [o.registration for o in outcomes], actor)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise InvalidInput(
            gettext("Rien n'a été enregistré : une de ces adresses vient d'être inscrite par ailleurs. Réessayez."),
            field="email",
        ) from None
    if notify:
        for kind, registration_id in welcome:
            _notify(kind, registration_id)
    return outcomes


_ALREADY_REGISTERED = N_("cette personne est déjà inscrite à cet événement.")


def _labelled(label: str, problem: domain.Problem) -> str:
    """'Ligne 3 : Nom : ce champ est obligatoire.' in the page's language."""
    return gettext("%(field)s : %(message)s", field=label, message=problem_text(problem))


# --------------------------------------------------------------------------- changing


def _require_holding(registration: Registration) -> None:
    if registration.anonymised_at is not None or registration.status not in ACTIVE_STATUSES:
        raise Conflict(gettext("Cette inscription est annulée : elle ne peut plus être modifiée."))


def update_details(registration: Registration, data: RegistrationInput) -> Registration:
    """Edit names, organisation, job title, category, territory, delegation, needs (not the workshops)."""
    if registration.anonymised_at is not None:
        raise Conflict(gettext("Ces données ont été effacées."))
    person, problems = domain.check_person(_person_input(data), check_email=False)
    delegation_problem = _delegation_problem(registration.event, data.delegation_id)
    if delegation_problem:
        problems.append(delegation_problem)
    if problems or person is None:
        raise RegistrationInvalid(problems, what=gettext("La modification"))
    registration.first_name = person.first_name
    registration.last_name = person.last_name
    registration.organisation = person.organisation
    registration.job_title = person.job_title
    registration.category = person.category
    registration.territory = person.territory
    registration.delegation_id = data.delegation_id
    registration.accessibility_needs = person.accessibility_needs
    if data.language in LANGUAGES:
        registration.language = data.language
    db.session.commit()
    return registration


def change_email(registration: Registration, email: str) -> Registration:
    """Correct the person's address (an organiser's edit). Refused when another registration of
    the event already uses it."""
    if registration.anonymised_at is not None:
        raise Conflict(gettext("Ces données ont été effacées."))
    clean, problem = domain.normalise_email(email)
    if problem:
        raise RegistrationInvalid([problem], what=gettext("La modification"))
    key = domain.email_key(clean)
    other = _by_email_key(registration.event_id, key)
    if other is not None and other.id != registration.id:
        raise InvalidInput(gettext("Une autre inscription utilise déjà cette adresse."), field="email")
    registration.email = clean
    registration.email_key = key
    db.session.commit()
    return registration


def edit_by_organiser(registration: Registration, data: RegistrationInput, *, actor=None) -> Registration:
    """An organiser's edit of address, details and workshops: all of it, or nothing.

    Every part is checked before anything is written, so a refused workshop choice can no longer
    leave a new address saved behind it. (Only a race — the person cancelling in the same
    instant — can still stop the workshop change after the details are saved.)

    `actor` (the organiser): the staff journal gets a "registration.edit" entry with the details'
    first write when address or details change, and a "registration.workshops" entry with the
    workshops' own commit when they change: each entry is saved with the change it describes."""
    if registration.anonymised_at is not None:
        raise Conflict(gettext("Ces données ont été effacées."))
    problems: list[domain.Problem] = []
    clean_email, email_problem = domain.normalise_email(data.email)
    if email_problem:
        problems.append(email_problem)
    else:
        other = _by_email_key(registration.event_id, domain.email_key(clean_email))
        if other is not None and other.id != registration.id:
            problems.append(domain.Problem("email", N_("Une autre inscription utilise déjà cette adresse.")))
    clean_person, person_problems = domain.check_person(_person_input(data), check_email=False)
    problems += person_problems
    delegation_problem = _delegation_problem(registration.event, data.delegation_id)
    if delegation_problem:
        problems.append(delegation_problem)
    current_codes = sorted(seat.session.code.upper() for seat in registration.seats)
    wanted_codes = domain.normalise_codes(data.workshop_codes)
    workshops_change = registration.status in ACTIVE_STATUSES and sorted(wanted_codes) != current_codes
    if workshops_change:
        problems += domain.check_workshop_choice(wanted_codes, _slots(registration.event).values())[1]
    if problems:
        raise RegistrationInvalid(problems, what=gettext("La modification"))
    if actor is not None and clean_person is not None:
        after = {name: getattr(clean_person, name) for name in audit.REGISTRATION_FIELDS if name not in ("email", "delegation")}
        new_delegation = db.session.get(Delegation, data.delegation_id) if data.delegation_id is not None else None
        after.update(email=clean_email, delegation=new_delegation.name if new_delegation is not None else None)
        audit.registration_edited(registration, actor, audit.registration_values(registration), after)
    if clean_email != registration.email:
        change_email(registration, clean_email)
    update_details(registration, data)
    if workshops_change:
        change_workshops(registration, wanted_codes, actor=actor)
    return registration


def _lock_registration(registration: Registration, extra_session_ids: Iterable[int] = ()) -> dict[int, Session]:
    """The write lock for changing this person's seats: the sessions of their seats (and
    `extra_session_ids`) locked, and the registration re-read under the lock."""
    ids = {seat.session_id for seat in registration.seats} | set(extra_session_ids)
    locked = {s.id: s for s in _write_lock(ids, refresh=[registration])}
    db.session.expire(registration, ["seats"])  # their seats as they are now
    missing = {seat.session_id for seat in registration.seats} - set(locked)
    if missing:  # the seats changed in the meantime (another tab): lock those sessions too
        locked.update({s.id: s for s in _write_lock(missing)})
    return locked


def change_workshops(registration: Registration, codes: list[str], *, actor=None) -> list[WorkshopSeat]:
    """Replace the person's workshop choices; freed seats go to the first person waiting.
    `actor`: the organiser making the change (recorded in the staff journal); None: the person."""
    _require_holding(registration)
    slots = _slots(registration.event)
    chosen, problems = domain.check_workshop_choice(codes, slots.values())
    if problems:
        raise RegistrationInvalid(problems, what=gettext("Le changement d'ateliers"))
    locked = _lock_registration(registration, [slot.session_id for slot in chosen])
    try:
        _require_holding(registration)  # again, under the lock
    except Conflict:
        db.session.rollback()
        raise
    current = {seat.session.code.upper(): seat for seat in registration.seats}
    change = domain.diff_choices(list(current), [slot.code for slot in chosen])
    freed: list[Session] = []
    for code in change.dropped:
        seat = current[code]
        if seat.status == SEAT_CONFIRMED:
            freed.append(locked[seat.session_id])
        registration.seats.remove(seat)
    db.session.flush()
    added = _take_seats(registration, [locked[slots[code].session_id] for code in change.added], clock.now())
    promoted = _promoted_ids(_promote(freed))
    registration_id = registration.id
    newly_waiting = any(seat.status == SEAT_WAITLISTED for seat in added)
    if actor is not None and (change.added or change.dropped):
        waiting = [seat.session.code for seat in added if seat.status == SEAT_WAITLISTED]
        audit.workshops_changed(registration, actor, list(current), change.kept + change.added, waiting)
    db.session.commit()
    if change.added or change.dropped:
        _notify("waitlisted" if newly_waiting else "workshops_changed", registration_id)
    _notify_promoted(promoted)
    return _in_time_order(registration.seats)


def on_capacity_changed(session: Session) -> list[WorkshopSeat]:
    """Call after a session's capacity changed (raised, or no longer limited): the first waiting
    people get the new places and an email. Lowering it moves nobody out. Returns the promoted seats."""
    locked = _write_lock([session.id])
    seats = _promote(locked)
    promoted = _promoted_ids(seats)
    db.session.commit()
    _notify_promoted(promoted)
    return seats


def confirm(registration: Registration, *, actor=None) -> Registration:
    """Confirm a pending registration (approval mode). A cancelled or rejected one is taken back:
    its workshops are asked for again, at the end of each waiting list unless a place is free."""
    if registration.anonymised_at is not None:
        raise Conflict(gettext("Ces données ont été effacées : cette inscription ne peut plus être confirmée."))
    if registration.status == "confirmed":
        return registration
    moment = clock.now()
    before = registration.status
    promoted: list[tuple[int, int]] = []
    if registration.status == "pending":
        registration.status = "confirmed"
        registration.confirmed_at = moment
    else:
        locked = _lock_registration(registration)
        if registration.status == "confirmed" or registration.anonymised_at is not None:
            db.session.rollback()  # someone else got there first
            return registration
        registration.status = "confirmed"
        registration.confirmed_at = moment
        registration.cancelled_at = None
        for seat in registration.seats:
            seat.status = SEAT_WAITLISTED
            seat.requested_at = moment
        promoted = _promoted_ids(_promote(locked.values(), skip_registration_id=registration.id))
    registration_id = registration.id
    if actor is not None:
        audit.registration_status_changed(registration, actor, before)
    db.session.commit()
    _notify_promoted(promoted)
    _notify("confirmed", registration_id)
    return registration


def _release(registration: Registration, status: str) -> list[tuple[int, int]] | None:
    """Set an inactive status and give the person's places to the first waiting people.
    None (and nothing changed) when the registration was no longer active under the lock."""
    locked = _lock_registration(registration)
    if registration.status not in ACTIVE_STATUSES:
        db.session.rollback()
        return None
    registration.status = status
    if status == "cancelled":
        registration.cancelled_at = clock.now()
    return _promoted_ids(_promote(locked.values()))


def reject(registration: Registration, *, actor=None) -> Registration:
    """Refuse a registration (approval mode); its places go to the people waiting."""
    if registration.status == "rejected":
        return registration
    if registration.status not in ACTIVE_STATUSES or registration.anonymised_at is not None:
        raise Conflict(gettext("Cette inscription est annulée : elle ne peut pas être refusée."))
    before = registration.status
    promoted = _release(registration, "rejected")
    if promoted is None:
        return registration
    registration_id = registration.id
    if actor is not None:
        audit.registration_status_changed(registration, actor, before)
    db.session.commit()
    _notify("rejected", registration_id)
    _notify_promoted(promoted)
    return registration


def cancel(registration: Registration, *, actor=None) -> Registration:
    """Cancel; frees the seats (promoting waiting people) and revokes the badge.
    `actor`: the organiser cancelling (recorded in the staff journal); None: the person themself."""
    if registration.status not in ACTIVE_STATUSES:
        return registration
    before = registration.status
    promoted = _release(registration, "cancelled")
    if promoted is None:
        return registration
    registration_id = registration.id
    if actor is not None:
        audit.registration_status_changed(registration, actor, before)
    db.session.commit()
    _notify("cancelled", registration_id)
    _notify_promoted(promoted)
    return registration


def resend_link(registration: Registration) -> None:
    if registration.anonymised_at is not None:
        return
    _notify("link_resent", registration.id)


def anonymise(registration: Registration, moment: datetime, *, organisation: str = "", trails: bool = True) -> None:
    """Wipe what identifies the person, in the caller's transaction (no commit): names, email,
    organisation (or the stand-in `organisation` that keeps the count of organisations), job title,
    accessibility needs, the magic link's secret (the link and the badge stop working). Status,
    category, territory, delegation and seats stay: the figures survive. `trails`: also redact what
    names them elsewhere, the staff journal's entries and the answers stored with their check-ins
    (the purge of a whole event does both in one pass instead). Shared by `erase` (one person, at
    their request) and the purge of an event's personal data (forum_app/maintenance/purge.py)."""
    registration.first_name = ""
    registration.last_name = ERASED_LAST_NAME
    registration.email = f"anonyme-{registration.id}@invalid"
    registration.email_key = registration.email
    registration.organisation = organisation
    registration.job_title = ""
    registration.accessibility_needs = ""
    # A fresh secret nobody ever receives (and a shape the link pages refuse): the old link is dead.
    registration.access_token = "erased-" + secrets.token_urlsafe(32)
    registration.anonymised_at = moment
    if trails:
        audit_log.redact_registration(registration.id)  # the staff journal's entries about them lose the names
        _redact_checkin_answers(registration.id)


def _redact_checkin_answers(registration_id: int) -> int:
    """A scan's stored answer (replayed to a station that retries) copies the person's name,
    organisation and job title: they go, the rest of the answer stays."""
    from forum_app.checkin.models import CheckIn
    from forum_app.maintenance.domain import scrub_checkin_answer

    rows = db.session.execute(
        sa.select(CheckIn.id, CheckIn.answer).where(CheckIn.registration_id == registration_id)
    ).all()
    changed = [(row_id, scrub_checkin_answer(answer)) for row_id, answer in rows]
    for row_id, answer in changed:
        if answer is not None:
            db.session.execute(sa.update(CheckIn).where(CheckIn.id == row_id).values(answer=answer))
    return sum(answer is not None for _, answer in changed)


def erase(registration: Registration) -> None:
    """Anonymise the person (GDPR erasure); the counts (category, territory, seats) stay."""
    if registration.anonymised_at is not None:
        return
    promoted = (_release(registration, "cancelled") if registration.status in ACTIVE_STATUSES else None) or []
    moment = clock.now()
    anonymise(registration, moment)
    registration.status = "cancelled"
    registration.cancelled_at = registration.cancelled_at or moment
    db.session.commit()
    _notify_promoted(promoted)


def export_personal_data(registration: Registration) -> dict:
    """Everything held about the person, as JSON-ready data."""
    event = registration.event

    def when(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    positions = seats_with_positions(registration)
    return {
        "format": "forum_app/registration-export/1",
        "exported_at": clock.now().isoformat(),
        "event": {
            "slug": event.slug,
            "title": event.title,
            "venue": event.venue,
            "start_date": event.start_date.isoformat(),
            "end_date": event.end_date.isoformat(),
        },
        "registration": {
            "first_name": registration.first_name,
            "last_name": registration.last_name,
            "email": registration.email,
            "organisation": registration.organisation,
            "job_title": registration.job_title,
            "category": registration.category,
            "territory": registration.territory,
            "delegation": registration.delegation.name if registration.delegation else None,
            "accessibility_needs": registration.accessibility_needs,
            "language": registration.language,
            "status": registration.status,
            "source": registration.source,
            "consent": {"given_at": when(registration.consent_at), "version": registration.consent_version or None},
            "badge_serial": registration.badge_serial,
            "badge_printed_at": when(registration.badge_printed_at),
            "created_at": when(registration.created_at),
            "updated_at": when(registration.updated_at),
            "confirmed_at": when(registration.confirmed_at),
            "cancelled_at": when(registration.cancelled_at),
            "anonymised_at": when(registration.anonymised_at),
        },
        "workshops": [
            {
                "code": seat.session.code,
                "title": seat.session.title,
                "starts_at": when(seat.session.starts_at),
                "ends_at": when(seat.session.ends_at),
                "room": seat.session.room.name if seat.session.room else None,
                "status": seat.status,
                "waiting_list_position": position,
                "requested_at": when(seat.requested_at),
            }
            for seat, position in positions
        ],
    }


def load_for_mail(registration_id: int) -> Registration | None:
    """The registration with what a message shows (seats, their sessions and rooms)."""
    return db.session.scalar(
        db.select(Registration)
        .where(Registration.id == registration_id)
        .options(selectinload(Registration.seats).selectinload(WorkshopSeat.session).selectinload(Session.room))
    )


def erase_expired(today: date) -> dict[str, int]:
    """Erase the personal data of every event whose retention period is over (see
    domain.RETENTION_MONTHS): the whole purge of forum_app/maintenance/purge.py (registrations
    anonymised with their status kept, so the figures survive, and the event's other personal data).

    Returns how many registrations were erased per event slug. Safe to run every night: what is
    already erased is skipped.
    """
    from forum_app.maintenance import purge  # the purge builds on `anonymise` above

    results = purge.purge_expired(today)
    return {slug: result.erased["registration"] for slug, result in results.items() if result.erased["registration"]}
