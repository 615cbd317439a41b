"""Door check-in use cases: record a scan, undo an arrival (the stations' kit: `checkin.kit`).

Every scan is a CheckIn row, refused ones too. A station's retry carries the same `client_id`: it
gets the answer stored with the first row, verbatim, whatever changed since (a replay never
records twice and never re-judges). One person's arrivals at one door are decided under the
write lock (`forum_app.db.begin_write` on SQLite; the registration's row `SELECT ... FOR UPDATE`
on PostgreSQL), so twenty stations scanning the same badge at once give one `checked_in` and
nineteen `already_checked_in`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_request_context
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from forum_app import clock
from forum_app.audit import actions as audit
from forum_app.badges import domain as badge_domain
from forum_app.badges import services as badges
from forum_app.checkin import domain
from forum_app.checkin.models import CheckIn
from forum_app.db import begin_write
from forum_app.errors import Conflict, Forbidden, InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.programme.models import Event, Session
from forum_app.registration.labels import CATEGORY_LABELS
from forum_app.registration.models import Registration

ACTIVE_STATUSES = ("pending", "confirmed")  # registrations holding seats (registration.domain's rule)


@dataclass(frozen=True)
class Recorded:
    """The answer to a scan, and whether this call recorded it (False: a replayed client_id)."""

    answer: dict
    created: bool


def _text(message) -> str:
    """A lazy text in the request's language; in French outside a request (scripts, tests)."""
    if has_request_context():
        return str(message)
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")):
        return str(message)


_labels: dict[tuple[str, str], str] = {}  # (language, category) -> label: catalogues never change while running


def category_label(category: str) -> str:
    label = CATEGORY_LABELS.get(category)
    if label is None:
        return category
    key = (str(get_locale()) if has_request_context() else "", category)
    text = _labels.get(key)
    if text is None:
        text = _labels[key] = _text(label)
    return text


# --------------------------------------------------------------------------- checking in


def _invalid(field: str, message) -> InvalidInput:
    text = _text(message)
    return InvalidInput(text, problems=[text], field=field)


def _clean(client_id, station, scanned_at) -> tuple[str, str, datetime]:
    if not isinstance(client_id, str) or not domain.valid_client_id(client_id):
        raise _invalid(
            "client_id",
            _l("Identifiant de scan invalide : de 8 à 64 caractères parmi A-Z, a-z, 0-9, « - » et « _ »."),
        )
    if station is None:
        station = ""
    if not isinstance(station, str) or len(station) > domain.STATION_MAX:
        raise _invalid("station", _l("Nom de poste invalide : 100 caractères au plus."))
    moment = domain.parse_scanned_at(scanned_at)
    if moment is None:
        raise _invalid(
            "scanned_at", _l("Heure du scan invalide : date et heure ISO 8601 avec décalage, ex. 2019-06-06T09:12:00+02:00.")
        )
    return client_id, station.strip(), moment


def _identity(badge, registration_id) -> tuple[str | None, int | None]:
    """The badge text read at the door, or the registration picked by name: exactly one of them."""
    if registration_id is not None:
        if badge is not None and badge != "":
            raise _invalid("registration_id", _l("Envoyez le badge ou la personne trouvée par nom, pas les deux."))
        if (
            isinstance(registration_id, bool)
            or not isinstance(registration_id, int)
            or not 1 <= registration_id <= badge_domain.LIMITS["registration_id"]
        ):
            raise _invalid("registration_id", _l("Personne invalide : un numéro d'inscription entier est attendu."))
        return None, registration_id
    if not isinstance(badge, str) or not badge.strip():
        raise _invalid("badge", _l("Badge manquant : envoyez le texte lu dans le QR code."))
    if len(badge) > domain.BADGE_MAX:
        raise _invalid("badge", _l("Badge trop long : 512 caractères au plus."))
    return badge.strip(), None


def _replayed(event_id: int, client_id: str) -> dict | None:
    """The answer first given to `client_id` (the scan's id is kept out of the stored text, which
    is written with the row: one INSERT)."""
    row = db.session.execute(_REPLAY, {"event_id": event_id, "client_id": client_id}).first()
    if row is None:
        return None
    return {**json.loads(row.answer), "checkin_id": row.id}


def _session(event: Event, code) -> Session | None:
    if code is None or code == "":
        return None
    session = None
    if isinstance(code, str) and len(code) <= 16:
        session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code.strip()))
    if session is None:
        raise _invalid("session", _l("Session inconnue : vérifiez le code de la porte (A1, A2…)."))
    return session


def _counted_where(registration_id: int, session_id: int | None) -> tuple:
    return (
        CheckIn.registration_id == registration_id,
        CheckIn.session_id.is_(None) if session_id is None else CheckIn.session_id == session_id,
        CheckIn.outcome.in_(domain.COUNTED),
        CheckIn.undone_at.is_(None),
    )


def _counted_scans(registration_id: int, session_id: int | None) -> list[CheckIn]:
    """The person's scans that let them in at this door (not undone), as rows to change."""
    return list(db.session.scalars(db.select(CheckIn).where(*_counted_where(registration_id, session_id))))


# What deciding a scan needs of the earlier ones: plain rows, no ORM objects (a popular badge
# scanned by twenty stations has twenty of them, read on every scan).
_SCAN_FACTS = (CheckIn.id, CheckIn.outcome, CheckIn.scanned_at, CheckIn.received_at, CheckIn.clock_suspect, CheckIn.station)


# The hot statements of a scan, built once: SQLAlchemy then reuses their compiled form and cache
# key instead of rebuilding both on every scan (a measurable part of a scan's CPU).
_REPLAY = sa.select(CheckIn.id, CheckIn.answer).where(
    CheckIn.event_id == sa.bindparam("event_id"), CheckIn.client_id == sa.bindparam("client_id")
)
_COUNTED_AT_ENTRANCE = sa.select(*_SCAN_FACTS).where(
    *_counted_where(sa.bindparam("registration_id"), None)  # type: ignore[arg-type]
)
_COUNTED_AT_SESSION = sa.select(*_SCAN_FACTS).where(
    *_counted_where(sa.bindparam("registration_id"), sa.bindparam("session_id"))  # type: ignore[arg-type]
)


def _counted_scan_facts(registration_id: int, session_id: int | None) -> list:
    if session_id is None:
        return db.session.execute(_COUNTED_AT_ENTRANCE, {"registration_id": registration_id}).all()
    return db.session.execute(
        _COUNTED_AT_SESSION, {"registration_id": registration_id, "session_id": session_id}
    ).all()


def _scan(row) -> domain.Scan:
    """A CheckIn (or a row of its columns) as reconciliation sees it."""
    return domain.Scan(
        id=row.id, scanned_at=row.scanned_at, received_at=row.received_at,
        clock_suspect=row.clock_suspect, station=row.station,
    )


def _attendee(registration: Registration | None) -> dict | None:
    if registration is None:
        return None
    seats = sorted(
        (seat for seat in registration.seats if registration.status in ACTIVE_STATUSES),
        key=lambda seat: (seat.session.starts_at, seat.session.code),
    )
    return {
        "registration_id": registration.id,
        "name": registration.full_name,
        "organisation": registration.organisation,
        "job_title": registration.job_title,
        "category": registration.category,
        "category_label": category_label(registration.category),
        "status": registration.status,
        "workshops": [
            {"code": seat.session.code, "title": seat.session.title, "seat": seat.status,
             "starts_at": seat.session.starts_at.isoformat()}
            for seat in seats
        ],
    }


def check_in(
    event: Event,
    *,
    badge=None,
    registration_id=None,
    client_id,
    station="",
    scanned_at,
    session_code=None,
    user=None,
    device_id: int | None = None,
    force: bool = False,
) -> Recorded:
    """Record one scan and answer it (see the module docstring and checkin/domain.py).

    The person is named by `badge` (the text of their QR code) or, at the desk, by
    `registration_id` (found by name: method "search"), never both. The answer: {outcome,
    attendee (null when nobody is named), first_checked_in_at and first_station (the person's
    arrival at this door once they have one), checkin_id, session, station, method, scanned_at,
    received_at, clock_suspect, forced}. Bad input raises InvalidInput naming the field; an
    unknown session code too. `force` (an organiser letting someone in without a seat at a
    workshop door) raises Forbidden for anyone else. `device_id`: the door device (devices/) that
    sent the scan with its own token, when no staff member is signed in.
    """
    client_id, station, scanned = _clean(client_id, station, scanned_at)
    badge, registration_id = _identity(badge, registration_id)
    if force and not _is_organiser(user, event.id):
        raise Forbidden(_text(_l("Seul·e un·e organisateur·rice peut faire entrer une personne sans place.")))
    session = _session(event, session_code)
    try:
        return _record(
            event, badge, registration_id, client_id, station, scanned, session, getattr(user, "id", None), device_id, force
        )
    except IntegrityError:
        # The same client_id recorded at the same moment by another worker: its answer is ours.
        db.session.rollback()
        stored = _replayed(event.id, client_id)
        if stored is None:
            raise
        return Recorded(stored, created=False)


def _record(event, badge, registration_id, client_id, station, scanned, session, user_id, device_id, force) -> Recorded:
    # Verified and loaded before taking the writer lock, which every scan (repeats included) must
    # take: the lock then covers only what decides "first arrival or not". A reissue or a
    # cancellation a few milliseconds before is read as a scan made a moment earlier would be.
    if badge is not None:
        status, registration = badges.verify(event, badge)
    else:
        status, registration = badges.registration_at_door(event, registration_id)
    session_id = session.id if session is not None else None
    attendee = _attendee(registration)
    seat_held = True
    if status == badge_domain.VALID and registration is not None and session is not None and session.signup_required:
        seat_held = any(seat.session_id == session.id and seat.status == "confirmed" for seat in registration.seats)

    begin_write(db.session)
    # A retry of a scan already recorded (the station lost our answer): checked once, as the one
    # writer, so two copies of one retry racing each other cannot both record.
    stored = _replayed(event.id, client_id)
    if stored is not None:
        db.session.rollback()
        return Recorded(stored, created=False)
    earlier: list = []
    if status == badge_domain.VALID and registration is not None:
        _lock_registration_row(registration.id)
        earlier = _counted_scan_facts(registration.id, session_id)
    decision = domain.decide(
        status,
        already_arrived=any(row.outcome == domain.CHECKED_IN for row in earlier),
        session_given=session is not None,
        seat_held=seat_held,
        force=force,
    )
    received = clock.now()
    suspect = domain.clock_suspect(scanned, received)
    method = "badge" if badge is not None else "search"
    first = None
    if decision.outcome in domain.COUNTED:
        # This scan has no id yet: it sorts after the earlier ones on a tie.
        this = domain.Scan(id=2**62, scanned_at=scanned, received_at=received, clock_suspect=suspect, station=station)
        first = domain.reconcile([_scan(r) for r in earlier] + [this]).arrival
    answer = {
        "outcome": decision.outcome,
        "attendee": attendee,
        "first_checked_in_at": first.at.isoformat() if first else None,
        "first_station": first.station if first else None,
        "session": session.code if session is not None else None,
        "station": station,
        "method": method,
        "scanned_at": scanned.isoformat(),
        "received_at": received.isoformat(),
        "clock_suspect": suspect,
        "forced": decision.forced,
    }
    # One Core INSERT … RETURNING: no unit of work for a row nothing else in this request touches.
    checkin_id = db.session.execute(
        sa.insert(CheckIn.__table__)
        .values(
            event_id=event.id,
            registration_id=registration.id if registration is not None else None,
            session_id=session_id,
            client_id=client_id,
            station=station,
            user_id=user_id,
            device_id=device_id,
            outcome=decision.outcome,
            method=method,
            badge_serial=_serial(badge) if badge is not None else None,
            scanned_at=scanned,
            received_at=received,
            clock_suspect=suspect,
            answer=json.dumps(answer, ensure_ascii=False, separators=(",", ":")),
        )
        .returning(CheckIn.__table__.c.id)
    ).scalar_one()
    db.session.commit()
    return Recorded({**answer, "checkin_id": checkin_id}, created=True)


def _serial(badge: str) -> int | None:
    try:
        return badge_domain.peek_badge(badge).serial
    except badge_domain.BadgeError:
        return None


def _lock_registration_row(registration_id: int) -> None:
    """PostgreSQL: hold the person's row until the commit, so two scans of one person at once are
    decided one after the other. SQLite: begin_write already made us the one writer."""
    if db.session.get_bind().dialect.name == "sqlite":
        return
    db.session.execute(
        db.select(Registration.id).where(Registration.id == registration_id).with_for_update()
    ).first()


def _is_organiser(user, event_id: int) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_organiser_at(event_id)


# --------------------------------------------------------------------------- corrections


def undo_check_in(event: Event, checkin_id: int, user) -> CheckIn:
    """An organiser takes back an arrival (a wrong person scanned, a badge lent...).

    The scan and the person's other counted scans at that door are marked undone (who, when):
    nothing is deleted, and the person's next scan there is a `checked_in` again. Undoing an
    undone scan changes nothing; a refused scan has nothing to undo (Conflict).
    """
    begin_write(db.session)
    row = db.session.scalar(
        db.select(CheckIn).filter_by(id=checkin_id, event_id=event.id).with_for_update()
    )
    if row is None:
        db.session.rollback()
        raise NotFound(_text(_l("Ce passage n'existe pas.")))
    if row.outcome not in domain.COUNTED:
        db.session.rollback()
        raise Conflict(_text(_l("Ce passage a été refusé à la porte : il n'y a rien à annuler.")))
    if row.undone_at is not None:
        db.session.rollback()
        return row
    moment = clock.now()
    rows = [row]
    if row.registration_id is not None:
        rows += [r for r in _counted_scans(row.registration_id, row.session_id) if r.id != row.id]
    for item in rows:
        item.undone_at = moment
        item.undone_by_id = getattr(user, "id", None)
    audit.checkin_undone(event, row, rows, user)
    db.session.commit()
    return row


# --------------------------------------------------------------------------- the kit


def arrivals(event: Event, session_id: int | None = None) -> dict[int, domain.Scan]:
    """Registration id -> its arrival (reconciled) at the entrance, or at one session (1 statement,
    columns only: the kit asks for every arrival at each refresh)."""
    rows = db.session.execute(
        sa.select(CheckIn.registration_id, *_SCAN_FACTS).where(
            CheckIn.event_id == event.id,
            CheckIn.registration_id.is_not(None),
            CheckIn.session_id.is_(None) if session_id is None else CheckIn.session_id == session_id,
            CheckIn.outcome.in_(domain.COUNTED),
            CheckIn.undone_at.is_(None),
        )
    )
    by_person: dict[int, list[domain.Scan]] = {}
    for row in rows:
        by_person.setdefault(row.registration_id, []).append(_scan(row))
    return {rid: domain.reconcile(scans).arrival for rid, scans in by_person.items()}
