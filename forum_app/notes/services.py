"""Rapporteurs' notes use cases: capture (idempotent by client_id), edit with conflict detection,
soft delete and restore, order, highlight; organisers' moderation (include or exclude, fix an
attribution, merge duplicates); the change feed that live views poll.

Every write takes the write lock (`begin_write` on SQLite; the session's NoteStream row
`SELECT ... FOR UPDATE` on PostgreSQL), bumps the session's change counter and stamps it on the
items it changed, and keeps a NoteRevision of each item as it stands after the change.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from forum_app import clock
from forum_app.checkin.domain import parse_scanned_at
from forum_app.db import MAX_ID, begin_write
from forum_app.errors import Conflict, Forbidden, InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.notes import domain
from forum_app.notes.labels import problem_message
from forum_app.notes.models import NoteItem, NoteRevision, NoteStream, RapporteurAssignment
from forum_app.programme.models import Event, Person, Session, SessionPerson


class EditConflict(Conflict):
    """A stale edit: `current` is the item as stored (what the other writer made of it)."""

    code = "edit_conflict"

    def __init__(self, message: str, current: dict):
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class Saved:
    item: dict
    created: bool


def _text(message) -> str:
    if has_request_context():
        return str(message)
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")):
        return str(message)


def _invalid(problems: list[domain.Problem]) -> InvalidInput:
    messages = [_text(problem_message(p)) for p in problems]
    return InvalidInput(messages[0], problems=messages, field=problems[0].field)


# --------------------------------------------------------------------------- who may write


def is_organiser(user, event_id: int) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_organiser_at(event_id))


def can_write(user, session: Session) -> bool:
    """Organisers (and site admins) write every session's notes; a rapporteur only theirs."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if is_organiser(user, session.event_id):
        return True
    if user.role_at(session.event_id) != "rapporteur":
        return False
    return db.session.scalar(
        db.select(RapporteurAssignment.id).filter_by(user_id=user.id, session_id=session.id)
    ) is not None


def can_read(user, session: Session) -> bool:
    return can_write(user, session)


def assigned_sessions(user, event: Event) -> list[Session]:
    """The sessions a rapporteur writes for ("mes sessions"), in programme order."""
    return list(
        db.session.scalars(
            db.select(Session)
            .join(RapporteurAssignment, RapporteurAssignment.session_id == Session.id)
            .where(RapporteurAssignment.user_id == user.id, Session.event_id == event.id)
            .order_by(Session.starts_at, Session.code)
        )
    )


def _require_writer(user, session: Session) -> None:
    if not can_write(user, session):
        raise Forbidden(_text(_l("Vous n'êtes pas rapporteur·e de cette session : vos notes n'y sont pas enregistrées.")))


def get_session(event: Event, code) -> Session:
    session = None
    if isinstance(code, str) and 0 < len(code) <= 16:
        session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))
    if session is None:
        raise NotFound(_text(_l("Cette session n'existe pas.")))
    return session


def _item(event: Event, item_id: int) -> NoteItem:
    item = db.session.scalar(db.select(NoteItem).filter_by(id=item_id, event_id=event.id))
    if item is None:
        raise NotFound(_text(_l("Cet élément de note n'existe pas.")))
    return item


# --------------------------------------------------------------------------- serialising


def item_json(item: NoteItem, *, photo_url=None) -> dict:
    """The public shape of an item (API answers, live views). `photo_url(item)` makes the photo's URL."""
    return {
        "id": item.id,
        "client_id": item.client_id,
        "session": item.session.code if item.session is not None else None,
        "kind": item.kind,
        "text": item.text,
        "attribution": {
            "person_id": item.attribution_person_id,
            "name": item.attribution_name,
            "job_title": item.attribution_job_title,
            "organisation": item.attribution_organisation,
        } if item.attribution_name else None,
        "photo": {
            "url": photo_url(item) if photo_url else None,
            "width": item.photo_width,
            "height": item.photo_height,
            "credit": item.photo_credit,
        } if item.photo_file else None,
        "captured_at": item.captured_at.isoformat(),
        "updated_at": item.updated_at.isoformat() if item.updated_at else None,
        "author_id": item.author_id,
        "version": item.version,
        "position": item.position,
        "highlighted": item.highlighted,
        "in_report": item.in_report,
        "deleted": item.deleted_at is not None,
        "merged_into": item.merged_into_id,
        "seq": item.change_seq,
    }


# --------------------------------------------------------------------------- writing


def _lock_stream(session_id: int) -> NoteStream:
    """Become the session's one writer and return its change counter."""
    begin_write(db.session)
    if db.session.get_bind().dialect.name == "postgresql":
        # FOR UPDATE locks only a row that exists: two first writers of a session would both
        # insert it. Make sure it exists first (SQLite needs nothing: begin_write made us the one writer).
        db.session.execute(pg_insert(NoteStream).values(session_id=session_id, seq=0).on_conflict_do_nothing())
    stream = db.session.scalar(db.select(NoteStream).filter_by(session_id=session_id).with_for_update())
    if stream is None:
        stream = NoteStream(session_id=session_id, seq=0)
        db.session.add(stream)
        db.session.flush()
    return stream


def _stamp(stream: NoteStream, items: Iterable[NoteItem], moment: datetime) -> None:
    stream.seq += 1
    for item in items:
        item.change_seq = stream.seq
        item.updated_at = moment


def _revision(item: NoteItem, action: str, user_id: int | None, moment: datetime) -> None:
    db.session.add(
        NoteRevision(
            item=item, version=item.version, action=action, kind=item.kind, text=item.text,
            attribution_name=item.attribution_name, attribution_job_title=item.attribution_job_title,
            attribution_organisation=item.attribution_organisation, user_id=user_id, at=moment,
        )
    )


def _attribution(session: Session, attribution: domain.Attribution) -> domain.Attribution:
    """A person picked from the session's people: their programme details, unless typed otherwise."""
    if attribution.person_id is None:
        return attribution
    if attribution.person_id > MAX_ID:  # no row has it (and PostgreSQL refuses to compare it)
        raise _invalid([domain.Problem("attribution", "bad_attribution")])
    person = db.session.scalar(
        db.select(Person)
        .join(SessionPerson, SessionPerson.person_id == Person.id)
        .where(Person.id == attribution.person_id, SessionPerson.session_id == session.id)
    )
    if person is None:
        raise _invalid([domain.Problem("attribution", "bad_attribution")])
    return domain.Attribution(
        person_id=person.id,
        name=attribution.name or person.name,
        job_title=attribution.job_title or person.job_title,
        organisation=attribution.organisation or person.organisation,
    )


def _apply_attribution(item: NoteItem, attribution: domain.Attribution) -> None:
    item.attribution_person_id = attribution.person_id
    item.attribution_name = attribution.name
    item.attribution_job_title = attribution.job_title
    item.attribution_organisation = attribution.organisation


def replayed(event_id: int, client_id: str) -> dict | None:
    """The first answer given to `client_id` at this event (the item as created), or None."""
    item = db.session.scalar(db.select(NoteItem).filter_by(event_id=event_id, client_id=client_id))
    if item is None:
        return None
    first = item.revisions[0] if item.revisions else None
    answer = item_json(item)
    if first is not None:  # the answer the first POST got: the item as it was created
        answer.update(kind=first.kind, text=first.text, version=first.version)
    return answer


def add_item(event: Event, session: Session, user, data: Mapping, *, photo: dict | None = None) -> Saved:
    """Create an item from {client_id, kind, text, attribution?, captured_at, highlighted?}.

    A client_id already used at this event gets the first answer back (created=False), whatever
    the body says now. `photo` (from notes.photos) carries the stored file for kind "photo".
    """
    _require_writer(user, session)
    client_id = data.get("client_id")
    problems: list[domain.Problem] = []
    if not domain.valid_client_id(client_id):
        problems.append(domain.Problem("client_id", "bad_client_id"))
    captured = parse_scanned_at(data.get("captured_at"))
    if captured is None:
        problems.append(domain.Problem("captured_at", "bad_time"))
    parsed = domain.parse_item(data, creating=True)
    problems += parsed.problems
    if photo is None and parsed.kind == domain.PHOTO and not problems:
        problems.append(domain.Problem("kind", "unknown_kind"))  # a photo comes with its file
    if problems:
        if domain.valid_client_id(client_id):
            stored = replayed(event.id, client_id)
            if stored is not None:  # a retry of an item made before a rule changed: still the same item
                return Saved(stored, created=False)
        raise _invalid(problems)
    attribution = _attribution(session, parsed.attribution)
    highlighted = data.get("highlighted") is True

    moment = clock.now()
    try:
        stream = _lock_stream(session.id)
        stored = replayed(event.id, client_id)
        if stored is not None:
            db.session.rollback()
            return Saved(stored, created=False)
        top = db.session.scalar(db.select(db.func.max(NoteItem.position)).filter_by(session_id=session.id)) or 0
        item = NoteItem(
            event_id=event.id, session_id=session.id, author_id=getattr(user, "id", None), client_id=client_id,
            kind=parsed.kind, text=parsed.text or "", captured_at=captured, created_at=moment,
            position=top + 1, highlighted=highlighted, version=1,
        )
        _apply_attribution(item, attribution)
        if photo is not None:
            item.photo_file = photo["file"]
            item.photo_width, item.photo_height = photo["width"], photo["height"]
            item.photo_credit = photo.get("credit", "")
        item.session = session
        db.session.add(item)
        _stamp(stream, [item], moment)
        _revision(item, "created", item.author_id, moment)
        db.session.flush()
        answer = item_json(item)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        stored = replayed(event.id, client_id)
        if stored is None:
            raise
        return Saved(stored, created=False)
    return Saved(answer, created=True)


def edit_item(event: Event, item_id: int, user, data: Mapping) -> dict:
    """Change an item: {version, kind?, text?, attribution?, highlighted?, deleted?, in_report?}.

    A change of kind, text or attribution from an older version raises EditConflict carrying the
    current item (nothing is written). `in_report` is an organiser's moderation.
    """
    item = _item(event, item_id)
    session = item.session
    _require_writer(user, session)
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _invalid([domain.Problem("version", "bad_version")])
    parsed = domain.parse_item(data, creating=False)
    problems = list(parsed.problems)
    if item.kind == domain.PHOTO and parsed.kind not in (None, domain.PHOTO):
        problems.append(domain.Problem("kind", "unknown_kind"))
    if item.kind != domain.PHOTO and parsed.kind == domain.PHOTO:
        problems.append(domain.Problem("kind", "unknown_kind"))
    flags = {}
    for key in ("highlighted", "deleted", "in_report"):
        if key in data:
            if not isinstance(data[key], bool):
                problems.append(domain.Problem(key, "bad_flag"))
            else:
                flags[key] = data[key]
    if problems:
        raise _invalid(problems)
    if "in_report" in flags and not is_organiser(user, event.id):
        raise Forbidden(_text(_l("Seule l'équipe d'organisation décide de ce qui entre dans le rapport.")))
    attribution = _attribution(session, parsed.attribution) if parsed.attribution is not None else None
    if parsed.text is not None and item.kind != domain.PHOTO and not parsed.text and (parsed.kind or item.kind) != domain.PHOTO:
        raise _invalid([domain.Problem("text", "empty")])

    moment = clock.now()
    stream = _lock_stream(session.id)
    db.session.refresh(item)  # as the one writer: the version another edit may just have bumped
    content = {key for key in domain.CONTENT_FIELDS if key in data}
    if domain.is_conflict(version, item.version, content):
        current = item_json(item)
        db.session.rollback()
        raise EditConflict(_text(_l("Cet élément a été modifié entre-temps : choisissez la version à garder.")), current)
    changed = False
    if parsed.kind is not None and parsed.kind != item.kind:
        item.kind, changed = parsed.kind, True
    if parsed.text is not None and parsed.text != item.text:
        item.text, changed = parsed.text, True
    if attribution is not None and attribution != _current_attribution(item):
        _apply_attribution(item, attribution)
        changed = True
    actions = []
    if changed:
        item.version += 1
        actions.append("edited")
    if "highlighted" in flags and flags["highlighted"] != item.highlighted:
        item.highlighted = flags["highlighted"]
        actions.append("edited")
    if "deleted" in flags and flags["deleted"] != (item.deleted_at is not None):
        item.deleted_at = moment if flags["deleted"] else None
        if not flags["deleted"]:
            item.merged_into_id = None  # restored: a separate item again
        actions.append("deleted" if flags["deleted"] else "restored")
    if "in_report" in flags and flags["in_report"] != item.in_report:
        item.in_report = flags["in_report"]
        actions.append("moderated")
    if not actions:
        answer = item_json(item)
        db.session.rollback()
        return answer
    _stamp(stream, [item], moment)
    _revision(item, actions[-1] if not changed else "edited", getattr(user, "id", None), moment)
    db.session.flush()
    answer = item_json(item)
    db.session.commit()
    return answer


def _current_attribution(item: NoteItem) -> domain.Attribution:
    return domain.Attribution(
        person_id=item.attribution_person_id, name=item.attribution_name,
        job_title=item.attribution_job_title, organisation=item.attribution_organisation,
    )


def reorder(event: Event, session: Session, user, ids: list) -> list[dict]:
    """Put the session's items in this order (top first: the list shows the highest position
    first). Ids not given keep their relative order below the ones given."""
    _require_writer(user, session)
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids) or len(ids) > 5000:
        raise InvalidInput(_text(_l("Ordre invalide : une liste d'identifiants d'éléments est attendue.")), field="ids")
    moment = clock.now()
    stream = _lock_stream(session.id)
    items = list(db.session.scalars(db.select(NoteItem).filter_by(session_id=session.id)))
    by_id = {item.id: item for item in items}
    unknown = [i for i in ids if i not in by_id]
    if unknown or len(set(ids)) != len(ids):
        db.session.rollback()
        raise InvalidInput(_text(_l("Ordre invalide : un élément n'appartient pas à cette session ou revient deux fois.")), field="ids")
    given = [by_id[i] for i in ids]
    rest = sorted((item for item in items if item.id not in set(ids)), key=lambda it: -it.position)
    ordered = given + rest
    changed = []
    for rank, item in enumerate(ordered):
        position = len(ordered) - rank
        if item.position != position:
            item.position = position
            changed.append(item)
    if changed:
        _stamp(stream, changed, moment)
        db.session.flush()
    answer = [item_json(item) for item in sorted(items, key=lambda it: -it.position)]
    db.session.commit()
    return answer


def merge(event: Event, item_id: int, into_id: int, user) -> dict:
    """An organiser merges a duplicate into another item of the same session: the kept item gets
    the other's text appended (unless it already says it), the duplicate is deleted (restorable)
    and points to the item it went into."""
    if not is_organiser(user, event.id):
        raise Forbidden(_text(_l("Seule l'équipe d'organisation peut fusionner des éléments.")))
    duplicate, kept = _item(event, item_id), _item(event, into_id)
    if duplicate.id == kept.id or duplicate.session_id != kept.session_id or kept.deleted_at is not None:
        raise InvalidInput(
            _text(_l("Fusion impossible : choisissez deux éléments différents de la même session, le second non supprimé.")),
            field="into",
        )
    moment = clock.now()
    stream = _lock_stream(kept.session_id)
    text = domain.merged_text(kept.text, duplicate.text)
    if text != kept.text:
        kept.text = text
        kept.version += 1
    if not kept.attribution_name and duplicate.attribution_name:
        _apply_attribution(kept, _current_attribution(duplicate))
    kept.highlighted = kept.highlighted or duplicate.highlighted
    duplicate.deleted_at = moment
    duplicate.merged_into_id = kept.id
    _stamp(stream, [kept, duplicate], moment)
    _revision(kept, "merged", getattr(user, "id", None), moment)
    _revision(duplicate, "merged", getattr(user, "id", None), moment)
    db.session.flush()
    answer = item_json(kept)
    db.session.commit()
    return answer


# --------------------------------------------------------------------------- reading


def stream_version(session: Session) -> int:
    return db.session.scalar(db.select(NoteStream.seq).filter_by(session_id=session.id)) or 0


def items_since(session: Session, since: int | None = None) -> tuple[list[NoteItem], int]:
    """The session's items changed after `since` (all of them, deleted ones too, when None), newest
    position first, and the cursor to ask with next time."""
    cursor = stream_version(session)
    query = db.select(NoteItem).filter_by(session_id=session.id)
    if since:
        query = query.where(NoteItem.change_seq > since)
    items = list(db.session.scalars(query.order_by(NoteItem.position.desc(), NoteItem.id.desc())))
    return items, cursor


def session_people(session: Session) -> list[dict]:
    """The people a quote can be attributed to (the attribution picker)."""
    rows = db.session.execute(
        db.select(Person, SessionPerson.role)
        .join(SessionPerson, SessionPerson.person_id == Person.id)
        .where(SessionPerson.session_id == session.id)
        .order_by(SessionPerson.position, Person.name)
    ).all()
    seen, people = set(), []
    for person, role in rows:
        if person.id in seen:
            continue
        seen.add(person.id)
        people.append({"id": person.id, "name": person.name, "job_title": person.job_title,
                       "organisation": person.organisation, "role": role})
    return people


def revisions(event: Event, item_id: int) -> list[NoteRevision]:
    return list(_item(event, item_id).revisions)
