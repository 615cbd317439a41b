"""Programme use cases: find events and sessions, change the programme."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import bindparam, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from forum_app.audit import actions as audit
from forum_app.errors import InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.programme import domain
from forum_app.programme.models import (
    PERSON_ROLES,
    SESSION_KINDS,
    Event,
    Person,
    Room,
    Session,
    SessionPerson,
    Track,
)

_EVENT_BY_SLUG = db.select(Event).where(Event.slug == bindparam("slug"))  # built once: asked on every request


def get_event(slug: str) -> Event:
    event = db.session.scalar(_EVENT_BY_SLUG, {"slug": slug})
    if event is None:
        raise NotFound("Cet événement n'existe pas.")
    return event


def published_events() -> list[Event]:
    return list(db.session.scalars(db.select(Event).filter_by(is_published=True).order_by(Event.start_date.desc())))


def get_session(event: Event, code: str) -> Session:
    session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))
    if session is None:
        raise NotFound("Cette session n'existe pas.")
    return session


def bump_programme_version(event: Event) -> None:
    """Mark the public programme as changed so caches and offline copies refresh."""
    event.programme_version = (event.programme_version or 0) + 1


# --- Organiser screens: programme editing (sessions, rooms, tracks, people) and clash warnings ---
#
# Each use case checks its rules on plain values before touching any object, so a refused change
# leaves the database as it was; every accepted change bumps the programme version and commits once.


class FieldErrors(InvalidInput):
    """Several problems, each tied to a form field: `errors` maps field name -> messages."""

    def __init__(self, errors: dict[str, list[str]]):
        messages = [m for ms in errors.values() for m in ms]
        first_field = next(iter(errors), None)
        super().__init__(messages[0] if messages else _("Saisie invalide."), messages, field=first_field)
        self.errors = errors


@dataclass
class SessionInput:
    code: str
    title: str
    day: date | None  # None only while a form is still being corrected (see session_problems)
    starts: time | None
    ends: time | None
    kind: str = "plenary"
    subtitle: str = ""
    track_id: int | None = None
    room_id: int | None = None
    abstract: str = ""
    description: str = ""
    signup_required: bool = False
    capacity: int | None = None


@dataclass
class ClashWarning:
    """A clash worded for the organiser."""

    kind: str
    message: str
    session_ids: tuple[int, int]
    clash: domain.Clash = field(repr=False)


def _add(errors: dict[str, list[str]], name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _check_length(errors: dict[str, list[str]], name: str, value: str | None, limit: int, *, required: bool) -> None:
    value = (value or "").strip()
    if required and not value:
        _add(errors, name, _("Ce champ est obligatoire."))
    elif len(value) > limit:
        _add(errors, name, _("%(limit)d caractères au maximum.", limit=limit))


def _check_capacity(errors: dict[str, list[str]], capacity: int | None) -> None:
    if capacity is not None and not (0 <= capacity <= domain.MAX_CAPACITY):
        _add(errors, "capacity", _("La capacité doit être comprise entre 0 et %(max)d.", max=domain.MAX_CAPACITY))


def _commit_change(event: Event) -> None:
    bump_programme_version(event)
    try:
        db.session.commit()
    except IntegrityError as error:  # a concurrent edit took the same code or name
        db.session.rollback()
        raise InvalidInput(_("Cette modification entre en conflit avec une autre : rechargez la page.")) from error


# Sessions ----------------------------------------------------------------------------------------


def get_session_by_id(event: Event, session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None or session.event_id != event.id:
        raise NotFound(_("Cette session n'existe pas."))
    return session


@dataclass
class SessionDraft:
    """A session input once checked: the problems found, and what it resolved to."""

    errors: dict[str, list[str]]
    code: str
    room: Room | None
    track: Track | None


def session_problems(event: Event, data: SessionInput, current: Session | None = None) -> dict[str, list[str]]:
    """Every rule `data` breaks (field -> French messages), without saving anything.

    Times left empty (None) are not checked, so a form can show these rules next to its own errors.
    """
    return _draft_session(event, data, current).errors


def _draft_session(event: Event, data: SessionInput, current: Session | None) -> SessionDraft:
    errors: dict[str, list[str]] = {}
    code = domain.normalise_code(data.code)
    if not code:
        _add(errors, "code", _("Ce champ est obligatoire."))
    elif len(code) > domain.SESSION_CODE_MAX_LENGTH:
        _add(errors, "code", _("%(limit)d caractères au maximum.", limit=domain.SESSION_CODE_MAX_LENGTH))
    elif not domain.is_valid_code(code):
        _add(errors, "code", _("Le code ne contient que des lettres sans accent et des chiffres (ex. A1)."))
    else:
        taken = db.session.scalar(
            db.select(Session.id).where(
                Session.event_id == event.id,
                func.upper(Session.code) == code,
                Session.id != (current.id if current else -1),
            )
        )
        if taken:
            _add(errors, "code", _("Le code %(code)s est déjà utilisé par une autre session.", code=code))
    _check_length(errors, "title", data.title, 300, required=True)
    _check_length(errors, "subtitle", data.subtitle, 300, required=False)
    _check_length(errors, "abstract", data.abstract, 5000, required=False)
    _check_length(errors, "description", data.description, 20000, required=False)
    if data.kind not in SESSION_KINDS:
        _add(errors, "kind", _("Type de session inconnu."))
    room = track = None
    if data.room_id is not None:
        room = db.session.get(Room, data.room_id)
        if room is None or room.event_id != event.id:
            _add(errors, "room_id", _("Cette salle n'existe pas."))
    if data.track_id is not None:
        track = db.session.get(Track, data.track_id)
        if track is None or track.event_id != event.id:
            _add(errors, "track_id", _("Ce parcours n'existe pas."))
    _check_capacity(errors, data.capacity)
    timing_known = None not in (data.day, data.starts, data.ends)
    timing = domain.session_time_problems(data.day, data.starts, data.ends, event.days) if timing_known else []
    for name, problem in timing:
        if problem == domain.OUTSIDE_EVENT:
            _add(
                errors,
                name,
                _(
                    "La date doit tomber pendant l'événement (du %(first)s au %(last)s).",
                    first=event.start_date.strftime("%d/%m/%Y"),
                    last=event.end_date.strftime("%d/%m/%Y"),
                ),
            )
        else:
            _add(errors, name, _("L'heure de fin doit être après l'heure de début."))
    return SessionDraft(errors, code, room, track)


def _check_session(event: Event, data: SessionInput, current: Session | None) -> tuple[str, Room | None, Track | None]:
    draft = _draft_session(event, data, current)
    if draft.errors:
        raise FieldErrors(draft.errors)
    return draft.code, draft.room, draft.track


def _apply_session(event: Event, session: Session, data: SessionInput, code: str, room, track) -> None:
    session.code = code
    session.title = data.title.strip()
    session.subtitle = (data.subtitle or "").strip()
    session.kind = data.kind
    session.room = room
    session.track = track
    session.starts_at = domain.local_to_utc(data.day, data.starts, event.timezone)
    session.ends_at = domain.local_to_utc(data.day, data.ends, event.timezone)
    session.abstract = (data.abstract or "").strip()
    session.description = (data.description or "").strip()
    session.signup_required = bool(data.signup_required)
    session.capacity = data.capacity


def create_session(event: Event, data: SessionInput, *, actor=None) -> Session:
    """`actor`: the organiser, recorded in the staff journal (every service below takes it too)."""
    code, room, track = _check_session(event, data, None)
    session = Session(event=event, code=code, title="")
    _apply_session(event, session, data, code, room, track)
    db.session.add(session)
    if actor is not None:
        db.session.flush()  # the journal names the new session's id
        audit.session_saved(event, session, actor, None)
    _commit_change(event)
    return session


def update_session(event: Event, session: Session, data: SessionInput, *, actor=None) -> Session:
    code, room, track = _check_session(event, data, session)
    before = audit.session_values(session, event.timezone)
    _apply_session(event, session, data, code, room, track)
    if actor is not None:
        audit.session_saved(event, session, actor, before)
    _commit_change(event)
    return session


def delete_session(event: Event, session: Session, *, actor=None) -> None:
    if actor is not None:
        audit.session_deleted(event, session.id, audit.session_values(session, event.timezone), actor)
    db.session.delete(session)
    _commit_change(event)


def session_form_values(event: Event, session: Session) -> dict:
    """A session as the edit form shows it: day and wall-clock times at the venue."""
    starts = domain.utc_to_local(session.starts_at, event.timezone)
    ends = domain.utc_to_local(session.ends_at, event.timezone)
    return {
        "code": session.code,
        "title": session.title,
        "subtitle": session.subtitle,
        "kind": session.kind,
        "track_id": session.track_id,
        "room_id": session.room_id,
        "day": starts.date(),
        "starts": starts.time().replace(second=0, microsecond=0),
        "ends": ends.time().replace(second=0, microsecond=0),
        "abstract": session.abstract,
        "description": session.description,
        "signup_required": session.signup_required,
        "capacity": session.capacity,
    }


def add_session_person(event: Event, session: Session, person_id: int, role: str, *, actor=None) -> SessionPerson:
    errors: dict[str, list[str]] = {}
    person = db.session.get(Person, person_id) if person_id is not None else None
    if person is None or person.event_id != event.id:
        _add(errors, "person_id", _("Choisissez une personne du programme."))
    if role not in PERSON_ROLES:
        _add(errors, "role", _("Rôle inconnu."))
    if not errors and any(link.person_id == person.id and link.role == role for link in session.people):
        _add(errors, "person_id", _("Cette personne a déjà ce rôle dans la session."))
    if errors:
        raise FieldErrors(errors)
    position = max((link.position for link in session.people), default=-1) + 1
    link = SessionPerson(person=person, role=role, position=position)
    session.people.append(link)
    if actor is not None:
        audit.session_person_changed(event, session, person, role, actor, added=True)
    _commit_change(event)
    return link


def remove_session_person(event: Event, session: Session, link_id: int, *, actor=None) -> None:
    link = next((link for link in session.people if link.id == link_id), None)
    if link is None:
        raise NotFound(_("Cette personne n'est pas (ou plus) dans la session."))
    if actor is not None:
        audit.session_person_changed(event, session, link.person, link.role, actor, added=False)
    session.people.remove(link)
    _commit_change(event)


# Rooms -------------------------------------------------------------------------------------------


def get_room(event: Event, room_id: int) -> Room:
    room = db.session.get(Room, room_id)
    if room is None or room.event_id != event.id:
        raise NotFound(_("Cette salle n'existe pas."))
    return room


def _check_room(event: Event, name: str, capacity: int | None, current: Room | None) -> str:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    _check_length(errors, "name", name, 200, required=True)
    if name and "name" not in errors:
        taken = db.session.scalar(
            db.select(Room.id).where(
                Room.event_id == event.id,
                func.lower(Room.name) == name.lower(),
                Room.id != (current.id if current else -1),
            )
        )
        if taken:
            _add(errors, "name", _("Une salle porte déjà ce nom."))
    _check_capacity(errors, capacity)
    if errors:
        raise FieldErrors(errors)
    return name


def create_room(event: Event, name: str, capacity: int | None = None, *, actor=None) -> Room:
    name = _check_room(event, name, capacity, None)
    position = max((r.position for r in event.rooms), default=-1) + 1
    room = Room(name=name, capacity=capacity, position=position)
    event.rooms.append(room)
    _journal(event, "room", room, actor, before=None)
    _commit_change(event)
    return room


def update_room(event: Event, room: Room, name: str, capacity: int | None = None, *, actor=None) -> Room:
    before = _catalogue_values("room", room)
    room.name, room.capacity = _check_room(event, name, capacity, room), capacity
    _journal(event, "room", room, actor, before=before)
    _commit_change(event)
    return room


def delete_room(event: Event, room: Room, *, actor=None) -> None:
    """Sessions in the room stay in the programme, without a room."""
    for session in list(room.sessions):
        session.room = None
    _journal(event, "room", room, actor, before=_catalogue_values("room", room), deleted=True)
    db.session.delete(room)
    _commit_change(event)


# Tracks ------------------------------------------------------------------------------------------


def get_track(event: Event, track_id: int) -> Track:
    track = db.session.get(Track, track_id)
    if track is None or track.event_id != event.id:
        raise NotFound(_("Ce parcours n'existe pas."))
    return track


def _check_track(event: Event, name: str, colour: str, current: Track | None) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    colour = (colour or "").strip().lower()
    _check_length(errors, "name", name, 200, required=True)
    if name and "name" not in errors:
        taken = db.session.scalar(
            db.select(Track.id).where(
                Track.event_id == event.id,
                func.lower(Track.name) == name.lower(),
                Track.id != (current.id if current else -1),
            )
        )
        if taken:
            _add(errors, "name", _("Un parcours porte déjà ce nom."))
    if not domain.is_valid_colour(colour):
        _add(errors, "colour", _("La couleur s'écrit #rrvvbb, par exemple #1d4ed8."))
    if errors:
        raise FieldErrors(errors)
    return name, colour


def create_track(event: Event, name: str, colour: str, *, actor=None) -> Track:
    name, colour = _check_track(event, name, colour, None)
    track = Track(name=name, slug=domain.slugify(name), colour=colour)
    event.tracks.append(track)
    _journal(event, "track", track, actor, before=None)
    _commit_change(event)
    return track


def update_track(event: Event, track: Track, name: str, colour: str, *, actor=None) -> Track:
    name, colour = _check_track(event, name, colour, track)
    before = _catalogue_values("track", track)
    track.name, track.slug, track.colour = name, domain.slugify(name), colour
    _journal(event, "track", track, actor, before=before)
    _commit_change(event)
    return track


def delete_track(event: Event, track: Track, *, actor=None) -> None:
    for session in list(track.sessions):
        session.track = None
    _journal(event, "track", track, actor, before=_catalogue_values("track", track), deleted=True)
    db.session.delete(track)
    _commit_change(event)


# People on the programme -------------------------------------------------------------------------


def get_person(event: Event, person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None or person.event_id != event.id:
        raise NotFound(_("Cette personne n'existe pas."))
    return person


def _check_person(name: str, job_title: str, organisation: str) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    _check_length(errors, "name", name, 200, required=True)
    _check_length(errors, "job_title", job_title, 300, required=False)
    _check_length(errors, "organisation", organisation, 300, required=False)
    if errors:
        raise FieldErrors(errors)
    return (name or "").strip(), (job_title or "").strip(), (organisation or "").strip()


def create_person(event: Event, name: str, job_title: str = "", organisation: str = "", *, actor=None) -> Person:
    name, job_title, organisation = _check_person(name, job_title, organisation)
    person = Person(name=name, job_title=job_title, organisation=organisation)
    event.people.append(person)
    _journal(event, "person", person, actor, before=None)
    _commit_change(event)
    return person


def update_person(
    event: Event, person: Person, name: str, job_title: str = "", organisation: str = "", *, actor=None
) -> Person:
    before = _catalogue_values("person", person)
    person.name, person.job_title, person.organisation = _check_person(name, job_title, organisation)
    _journal(event, "person", person, actor, before=before)
    _commit_change(event)
    return person


def delete_person(event: Event, person: Person, *, actor=None) -> None:
    """The person leaves every session they were in."""
    _journal(event, "person", person, actor, before=_catalogue_values("person", person), deleted=True)
    db.session.delete(person)
    _commit_change(event)


# The staff journal's view of rooms, tracks and people: what an organiser's form can change.
_CATALOGUE_FIELDS = {"room": ("name", "capacity"), "track": ("name", "colour"), "person": ("name", "job_title", "organisation")}


def _catalogue_values(kind: str, item) -> dict:
    return {name: getattr(item, name) for name in _CATALOGUE_FIELDS[kind]}


def _journal(event: Event, kind: str, item, actor, *, before: dict | None, deleted: bool = False) -> None:
    """Record an organiser's change of a room, track or person (nothing for scripts: no actor)."""
    if actor is None:
        return
    if before is None:
        db.session.flush()  # the journal names the new item's id
    audit.catalogue_changed(event, kind, item.id, actor, before, None if deleted else _catalogue_values(kind, item))


# Clash warnings ----------------------------------------------------------------------------------


def slot_view(session: Session) -> domain.SlotView:
    return domain.SlotView(
        id=session.id,
        code=session.code,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        room_id=session.room_id,
        person_ids=frozenset(link.person_id for link in session.people),
    )


def programme_clashes(event: Event, session: Session | None = None) -> list[ClashWarning]:
    """Clashes in the event's programme (only those involving `session` when given), worded in French."""
    sessions = {s.id: s for s in event.sessions}
    clashes = domain.find_clashes(slot_view(s) for s in sessions.values())
    if session is not None:
        clashes = [c for c in clashes if c.involves(session.id)]
    rooms = {room.id: room.name for room in event.rooms}
    people = {person.id: person.name for person in event.people}
    warnings = []
    for clash in clashes:
        first, second = sessions[clash.first.id], sessions[clash.second.id]
        pair = {
            "a": _("%(code)s «\u00a0%(title)s\u00a0»", code=first.code, title=first.title),
            "b": _("%(code)s «\u00a0%(title)s\u00a0»", code=second.code, title=second.title),
        }
        if clash.kind == domain.ROOM_CLASH:
            message = _(
                "%(room)s : %(a)s et %(b)s ont lieu en même temps dans cette salle.", room=rooms.get(clash.subject_id, "?"), **pair
            )
        else:
            message = _(
                "%(person)s est prévu·e dans deux sessions en même temps : %(a)s et %(b)s.",
                person=people.get(clash.subject_id, "?"),
                **pair,
            )
        warnings.append(ClashWarning(clash.kind, message, (first.id, second.id), clash))
    return warnings


# --- Public programme pages: reads with eager loading (a handful of queries, no N+1) ---


def local_day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """The instants a calendar day at the venue starts and ends (aware, half-open)."""
    zone = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def _programme_select(event: Event, *, with_people: bool = True):
    options = [joinedload(Session.track), joinedload(Session.room)]
    if with_people:
        options.append(selectinload(Session.people).joinedload(SessionPerson.person))
    return (
        db.select(Session)
        .where(Session.event_id == event.id)
        .options(*options)
        .order_by(Session.starts_at, Session.code)
    )


def public_sessions(event: Event, *, day: date | None = None, with_people: bool = True) -> list[Session]:
    """The event's sessions (of one day at the venue when `day` is given), with track, room and people."""
    stmt = _programme_select(event, with_people=with_people)
    if day is not None:
        start, end = local_day_bounds(day, event.timezone)
        stmt = stmt.where(Session.starts_at >= start, Session.starts_at < end)
    return list(db.session.scalars(stmt).unique())


def kinds_in_use(event: Event) -> list[str]:
    """Session kinds the event's programme uses, in the canonical order."""
    used = set(db.session.scalars(db.select(Session.kind).where(Session.event_id == event.id).distinct()))
    return [kind for kind in SESSION_KINDS if kind in used]


def public_session(event: Event, code: str) -> Session:
    """One session by code (any case), with its track, room and people loaded."""
    code = (code or "").strip()
    if not code or len(code) > 32:
        raise NotFound(_("Cette session n'existe pas."))
    stmt = _programme_select(event).where(func.upper(Session.code) == code.upper())
    session = db.session.scalars(stmt).unique().first()
    if session is None:
        raise NotFound(_("Cette session n'existe pas."))
    return session


def session_facts(session: Session) -> domain.SessionFacts:
    """What the public filters look at, as plain values (people must be loaded)."""
    texts = [session.title, session.subtitle, session.abstract, session.description]
    for link in session.people:
        texts += [link.person.name, link.person.organisation]
    return domain.SessionFacts(
        kind=session.kind,
        track=session.track.slug if session.track else None,
        room=session.room_id,
        text=domain.search_text(texts),
    )


@dataclass
class ProgrammeListing:
    """What the programme page shows for one day and set of filters."""

    shown: list[Session]
    other_days: list[tuple[date, int]] = field(default_factory=list)  # (day, matches) when filters narrow
    now_next: domain.NowNext | None = None  # only on the event's days


def programme_listing(event: Event, filters: domain.Filters, *, today: date, now: datetime) -> ProgrammeListing:
    """The sessions of the chosen day that pass the filters, matches on other days, and now/next today."""
    zone = ZoneInfo(event.timezone)
    other_days: list[tuple[date, int]] = []
    today_sessions: list[Session] | None = None
    if filters.narrowing:
        # A search looks at every day, so the page can point to matches on the other days.
        by_day: dict[date, list[Session]] = {}
        for session in public_sessions(event):
            by_day.setdefault(session.starts_at.astimezone(zone).date(), []).append(session)
        matching = {
            day: [s for s in sessions if domain.session_matches(session_facts(s), filters)]
            for day, sessions in by_day.items()
        }
        shown = matching.get(filters.day, [])
        other_days = sorted((day, len(found)) for day, found in matching.items() if found and day != filters.day)
        today_sessions = by_day.get(today, [])
    else:
        shown = public_sessions(event, day=filters.day)
        if filters.day == today:
            today_sessions = shown
    now_next = None
    if today in event.days:
        if today_sessions is None:
            today_sessions = public_sessions(event, day=today, with_people=False)
        now_next = domain.now_and_next(today_sessions, now)
    return ProgrammeListing(shown=shown, other_days=other_days, now_next=now_next)
