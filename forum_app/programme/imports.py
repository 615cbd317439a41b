"""Programme import and export use cases (c3voc/frab schedule files <-> the database).

Import rules:
- One transaction: any problem rolls everything back, the database is left as it was.
- The event is found by slug (the `event_slug` given, else the file's acronym lower-cased)
  and created when missing.
- Rooms and tracks are matched by name, people by guid then by name, sessions by guid:
  importing the same file again updates in place and never duplicates.
- Sessions of the event that the file does not mention are KEPT, untouched: they may be the
  organisers' own additions, and sign-ups and notes hang on them. The result counts them.
- Organisers' settings the file does not carry are never overwritten on an update: a
  session's sign-up/capacity, the event's venue, registration dates and publication. A
  new workshop starts with sign-up required and its room's capacity.
- A person's job title or organisation is replaced only by a non-empty value from the file.
- A file code taken in the event by another session (one not in the file) is refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from forum_app.errors import InvalidInput
from forum_app.extensions import db
from forum_app.programme import domain, interop
from forum_app.programme.interop import (
    PersonData,
    RoomData,
    ScheduleData,
    SessionData,
    TrackData,
)
from forum_app.programme.models import (
    Event,
    Person,
    Room,
    Session,
    SessionPerson,
    Track,
)
from forum_app.programme.services import bump_programme_version

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
CODE_PATTERN = re.compile(r"[A-Z0-9]{1,16}")


@dataclass
class ImportResult:
    event: Event
    created: int = 0  # sessions created
    updated: int = 0  # sessions changed
    unchanged: int = 0  # sessions already as in the file
    kept: int = 0  # sessions of the event absent from the file, kept as they were
    event_created: bool = False

    def summary(self) -> str:
        parts = [
            _count(self.created, "session créée", "sessions créées"),
            _count(self.updated, "mise à jour", "mises à jour"),
            _count(self.unchanged, "inchangée", "inchangées"),
        ]
        text = ", ".join(parts)
        if self.kept:
            text += " ; " + _count(
                self.kept, "session absente du fichier conservée", "sessions absentes du fichier conservées"
            )
        return text


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n <= 1 else many}"


# --------------------------------------------------------------------------- import


def import_schedule_file(path: str | Path, event_slug: str | None = None) -> ImportResult:
    """Read a schedule file (JSON or XML) and import it; see import_schedule."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"Fichier illisible : {path.name} ({error.strerror or error}).") from error
    data = interop.parse_schedule(content, filename=path.name)
    return import_schedule(data, event_slug=event_slug)


def import_schedule(data: ScheduleData, event_slug: str | None = None) -> ImportResult:
    """Create or update the event's programme from `data`, in one transaction."""
    try:
        result = _import(data, event_slug)
        db.session.commit()
    except IntegrityError as error:  # a concurrent edit took the same code or name
        db.session.rollback()
        raise InvalidInput("L'import entre en conflit avec une modification en cours : recommencez.") from error
    except BaseException:
        db.session.rollback()
        raise
    return result


def _import(data: ScheduleData, event_slug: str | None) -> ImportResult:
    slug = (event_slug or interop.event_slug_from_acronym(data.acronym)).strip()
    if not SLUG_PATTERN.fullmatch(slug):
        raise InvalidInput(
            f"Identifiant d'événement invalide « {slug} » : lettres minuscules, chiffres, « - » ou « _ ».",
            field="event",
        )
    try:
        tz = ZoneInfo(data.time_zone)
    except Exception as error:  # noqa: BLE001 - any unusable zone name
        raise InvalidInput(f"Fuseau horaire inconnu « {data.time_zone} ».") from error

    guids = [item.guid for item in data.sessions]
    if len(set(guids)) != len(guids):
        raise InvalidInput("Deux sessions du programme ont le même guid. Rien n'a été importé.")
    file_guids = set(guids)
    codes = [item.code for item in data.sessions]
    if len(set(codes)) != len(codes):
        twice = sorted({code for code in codes if codes.count(code) > 1})
        raise InvalidInput(f"Codes de session en double dans le programme : {', '.join(twice)}. Rien n'a été importé.")

    event = db.session.scalar(db.select(Event).filter_by(slug=slug))
    created = event is None
    if event is None:
        event = Event(slug=slug, title=data.title, start_date=data.start, end_date=data.end, programme_version=1)
        db.session.add(event)
    result = ImportResult(event=event, event_created=created)
    changed = created
    changed |= _assign(
        event, title=data.title, timezone=data.time_zone,
        **({"description": data.description} if data.description else {}),
        **({"base_url": data.base_url} if data.base_url else {}),
    )
    db.session.flush()

    rooms, rooms_changed = _upsert_rooms(event, data.rooms)
    tracks, tracks_changed = _upsert_tracks(event, data.tracks)
    changed |= rooms_changed or tracks_changed
    people = _PeopleIndex(event)

    existing = {
        s.guid: s
        for s in db.session.scalars(
            db.select(Session).filter_by(event_id=event.id).options(selectinload(Session.people))
        )
    }
    for item in data.sessions:
        _check_session(item)
        session = existing.get(item.guid)
        clash = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=item.code))
        if clash is not None and clash.guid != item.guid:
            if clash.guid in file_guids:
                # Codes swapped between two sessions of the file: free this one first.
                clash.code = f"~{clash.id}"
                db.session.flush()
            else:
                raise InvalidInput(
                    f"Le code {item.code} de la session « {item.title} » est déjà pris dans l'événement par "
                    f"la session « {clash.title} », absente du fichier. Rien n'a été importé."
                )
        room = rooms.get(item.room.casefold()) if item.room else None
        track = tracks.get(item.track.casefold()) if item.track else None
        values = dict(
            code=item.code, title=item.title, subtitle=item.subtitle, kind=item.kind,
            external_id=item.external_id, starts_at=item.start, ends_at=item.end, language=item.language,
            abstract=item.abstract, description=item.description, room=room, track=track,
        )
        if session is None:
            session = Session(event=event, guid=item.guid, **values)
            if item.kind == "workshop":
                session.signup_required = True
                session.capacity = room.capacity if room else None
            db.session.add(session)
            db.session.flush()
            existing[item.guid] = session
            _set_people(session, item.persons, people)
            result.created += 1
            changed = True
        else:
            fields_changed = _assign(session, **values)
            people_changed = _set_people(session, item.persons, people)
            if fields_changed or people_changed:
                result.updated += 1
                changed = True
            else:
                result.unchanged += 1
        db.session.flush()
    result.kept = len(set(existing) - file_guids)
    changed |= people.changed

    # The event's days cover its whole programme, kept sessions included.
    local_days = [
        moment.astimezone(tz).date()
        for s in db.session.scalars(db.select(Session).filter_by(event_id=event.id))
        for moment in (s.starts_at, s.ends_at)
    ]
    changed |= _assign(
        event, start_date=min([data.start, *local_days]), end_date=max([data.end, *local_days])
    )
    if changed and not result.event_created:
        bump_programme_version(event)
    db.session.flush()
    return result


def _check_session(item: SessionData) -> None:
    """import_schedule is public: data built by hand gets the same checks as a parsed file."""
    where = f"session {item.code or '?'} « {item.title} »"
    if not CODE_PATTERN.fullmatch(item.code or ""):
        raise InvalidInput(f"{where} : code invalide (1 à 16 lettres majuscules ou chiffres).")
    if not item.title.strip():
        raise InvalidInput(f"{where} : titre manquant.")
    if item.kind not in interop.SESSION_KINDS:
        raise InvalidInput(f"{where} : type de session inconnu « {item.kind} ».")
    if item.start.tzinfo is None or item.end.tzinfo is None:
        raise InvalidInput(f"{where} : horaires sans fuseau horaire.")
    if item.end < item.start:
        raise InvalidInput(f"{where} : la session finit avant de commencer.")
    for person in item.persons:
        if person.session_role not in interop.PERSON_ROLES:
            raise InvalidInput(f"{where} : rôle inconnu « {person.session_role} » pour {person.name}.")


def _assign(obj, **values) -> bool:
    """Set attributes that differ; True when something changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _upsert_rooms(event: Event, items: list[RoomData]) -> tuple[dict[str, Room], bool]:
    rooms = {r.name.casefold(): r for r in db.session.scalars(db.select(Room).filter_by(event_id=event.id))}
    changed = False
    for position, item in enumerate(items):
        room = rooms.get(item.name.casefold())
        values = {"name": item.name, "position": position}
        if item.guid:
            values["guid"] = item.guid
        if item.capacity is not None:
            values["capacity"] = item.capacity
        if room is None:
            room = Room(event=event, **values)
            db.session.add(room)
            rooms[item.name.casefold()] = room
            changed = True
        else:
            changed |= _assign(room, **values)
    return rooms, changed


def _upsert_tracks(event: Event, items: list[TrackData]) -> tuple[dict[str, Track], bool]:
    tracks = {t.name.casefold(): t for t in db.session.scalars(db.select(Track).filter_by(event_id=event.id))}
    changed = False
    for item in items:
        track = tracks.get(item.name.casefold())
        values = {"name": item.name, "slug": domain.slugify(item.name)}  # slug as the organiser screens make it
        if item.colour:
            values["colour"] = item.colour
        if track is None:
            track = Track(event=event, **values)
            db.session.add(track)
            tracks[item.name.casefold()] = track
            changed = True
        else:
            changed |= _assign(track, **values)
    return tracks, changed


class _PeopleIndex:
    """The event's people by guid and by name; creates and updates them from the file."""

    def __init__(self, event: Event):
        self.event = event
        self.by_guid: dict[str, Person] = {}
        self.by_name: dict[str, Person] = {}
        self.guids_from_file: set[str] = set()
        self.changed = False
        for person in db.session.scalars(db.select(Person).filter_by(event_id=event.id).order_by(Person.id)):
            self.by_guid[person.guid] = person
            self.by_name.setdefault(person.name.casefold(), person)

    def resolve(self, item: PersonData) -> Person:
        person = self.by_guid.get(item.guid) if item.guid else None
        if person is None:
            person = self.by_name.get(item.name.casefold())
            if person is not None and item.guid and person.guid in self.guids_from_file:
                person = None  # same name, different person (two guids in the file)
        if person is None:
            person = Person(event=self.event, name=item.name)
            if item.guid:
                person.guid = item.guid
            db.session.add(person)
            db.session.flush()
            self.changed = True
        values = {"name": item.name}
        if item.guid and item.guid not in self.by_guid:
            values["guid"] = item.guid
        if item.job_title:
            values["job_title"] = item.job_title
        if item.organisation:
            values["organisation"] = item.organisation
        self.changed |= _assign(person, **values)
        self.by_guid[person.guid] = person
        self.by_name.setdefault(person.name.casefold(), person)
        if item.guid:
            self.guids_from_file.add(item.guid)
        return person


def _set_people(session: Session, items: list[PersonData], people: _PeopleIndex) -> bool:
    """Make the session's line-up the file's; True when it changed."""
    wanted: list[tuple[Person, str]] = []
    for item in items:
        person = people.resolve(item)
        pair = (person, item.session_role)
        if all(p.id != person.id or r != item.session_role for p, r in wanted):
            wanted.append(pair)
    current = [(sp.person_id, sp.role) for sp in session.people]
    if current == [(p.id, r) for p, r in wanted]:
        return False
    session.people.clear()
    db.session.flush()
    for position, (person, role) in enumerate(wanted):
        session.people.append(SessionPerson(person=person, role=role, position=position))
    return True


# --------------------------------------------------------------------------- export


def schedule_for_export(
    event: Event, *, site_url: str | None = None, codes: list[str] | None = None
) -> ScheduleData:
    """The event's programme as plain data for the interop builders.

    `site_url` (e.g. "https://forum.example.org/") makes each session's `url` its page here;
    `codes` keeps only those sessions (unknown codes are ignored).
    """
    query = (
        db.select(Session)
        .filter_by(event_id=event.id)
        .options(
            selectinload(Session.people).selectinload(SessionPerson.person),
            selectinload(Session.room),
            selectinload(Session.track),
        )
        .order_by(Session.starts_at, Session.code)
    )
    if codes is not None:
        query = query.where(Session.code.in_(codes))
    root = site_url.rstrip("/") if site_url else ""
    sessions = [
        SessionData(
            guid=s.guid,
            code=s.code,
            title=s.title,
            start=s.starts_at,
            end=s.ends_at,
            kind=s.kind,
            external_id=s.external_id,
            subtitle=s.subtitle or "",
            track=s.track.name if s.track else None,
            room=s.room.name if s.room else None,
            language=s.language or event.default_locale or "fr",
            abstract=s.abstract or "",
            description=s.description or "",
            url=f"{root}/e/{event.slug}/s/{s.code}" if root else "",
            persons=[
                PersonData(
                    name=sp.person.name,
                    guid=sp.person.guid,
                    job_title=sp.person.job_title or "",
                    organisation=sp.person.organisation or "",
                    session_role=sp.role,
                )
                for sp in s.people
            ],
            updated_at=s.updated_at,
        )
        for s in db.session.scalars(query)
    ]
    return ScheduleData(
        title=event.title,
        acronym=event.slug,
        start=event.start_date,
        end=event.end_date,
        time_zone=event.timezone or interop.DEFAULT_TIME_ZONE,
        description=event.description or "",
        base_url=event.base_url or (f"{root}/e/{event.slug}/" if root else ""),
        url=f"{root}/e/{event.slug}/" if root else "",
        version=str(event.programme_version),
        rooms=[RoomData(name=r.name, guid=r.guid, capacity=r.capacity) for r in event.rooms],
        tracks=[TrackData(name=t.name, colour=t.colour, slug=t.slug) for t in event.tracks],
        sessions=sessions,
    )
