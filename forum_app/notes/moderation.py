"""Read side of the organisers' live view of the notes: what each room has captured, the latest
items across rooms, one session's items with their history. Set-based queries: a fixed number of
statements whatever the number of sessions or items (no N+1). The writes (include or exclude,
fix an attribution, merge, restore) are `notes.services`' own.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, or_
from sqlalchemy.orm import joinedload, selectinload

from forum_app.auth.models import User
from forum_app.extensions import db
from forum_app.notes import domain
from forum_app.notes.models import NoteItem, NoteStream, RapporteurAssignment
from forum_app.programme.models import Event, Session

LATEST_SHOWN = 30  # items in the "latest across rooms" list


@dataclass
class SessionNotes:
    """One session's line in the overview: counts are of items not deleted (merged ones are deleted)."""

    session: Session
    rapporteurs: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # kind -> items, in domain.KINDS order
    total: int = 0
    highlighted: int = 0  # "à retenir" (the rapporteur's flag)
    excluded: int = 0  # left out of the report by an organiser
    deleted: int = 0  # deleted or merged into another item (restorable)
    last_at: datetime | None = None  # when the newest item reached the server


@dataclass
class Overview:
    sessions: list[SessionNotes]
    total: int
    highlighted: int
    excluded: int

    @property
    def with_items(self) -> int:
        return sum(1 for row in self.sessions if row.total)


@dataclass
class LatestItem:
    item: NoteItem
    code: str
    title: str
    author: str


@dataclass
class SessionItems:
    live: list[NoteItem]  # shown first, in the rapporteurs' order (highest position first)
    removed: list[NoteItem]  # deleted or merged, restorable
    names: dict[int, str]  # user id -> name, for authors and revisions


def _live():
    return NoteItem.deleted_at.is_(None)


def _count_columns():
    """Per kind: live items, highlighted, excluded from the report, deleted, newest arrival."""
    live = _live()
    return (
        NoteItem.kind,
        func.sum(case((live, 1), else_=0)),
        func.sum(case((and_(live, NoteItem.highlighted.is_(True)), 1), else_=0)),
        func.sum(case((and_(live, NoteItem.in_report.is_(False)), 1), else_=0)),
        func.sum(case((live, 0), else_=1)),
        func.max(case((live, NoteItem.created_at), else_=None)),
    )


def _add_counts(row: SessionNotes, kind, count, highlighted, excluded, deleted, last_at) -> None:
    if count:
        row.counts[kind] = int(count)
    row.total += int(count or 0)
    row.highlighted += int(highlighted or 0)
    row.excluded += int(excluded or 0)
    row.deleted += int(deleted or 0)
    if last_at is not None:
        last_at = _aware(last_at)
        row.last_at = last_at if row.last_at is None else max(row.last_at, last_at)


def _sort_kinds(row: SessionNotes) -> None:
    order = {kind: n for n, kind in enumerate(domain.KINDS)}
    row.counts = dict(sorted(row.counts.items(), key=lambda pair: order.get(pair[0], len(order))))


def _aware(moment) -> datetime:
    """max() over a CASE may come back as the database's naive UTC value (or SQLite's text): aware UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def display_name(name: str | None, email: str | None) -> str:
    return (name or "").strip() or (email or "").split("@")[0]


def user_names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = db.session.execute(db.select(User.id, User.name, User.email).where(User.id.in_(wanted)))
    return {user_id: display_name(name, email) for user_id, name, email in rows}


def version(event: Event) -> tuple[int, int, int]:
    """What the live overview depends on, in one cheap statement: the sum of the event's note
    change counters (every change to any item bumps one of them), and the number and newest id of
    rapporteur assignments (a session starts or stops expecting notes)."""
    streams = (
        db.select(func.coalesce(func.sum(NoteStream.seq), 0))
        .join(Session, Session.id == NoteStream.session_id)
        .where(Session.event_id == event.id)
        .scalar_subquery()
    )
    assignments = (
        db.select(func.count(RapporteurAssignment.id))
        .join(Session, Session.id == RapporteurAssignment.session_id)
        .where(Session.event_id == event.id)
        .scalar_subquery()
    )
    newest = (
        db.select(func.coalesce(func.max(RapporteurAssignment.id), 0))
        .join(Session, Session.id == RapporteurAssignment.session_id)
        .where(Session.event_id == event.id)
        .scalar_subquery()
    )
    seq, count, last = db.session.execute(db.select(streams, assignments, newest)).one()
    return int(seq or 0), int(count or 0), int(last or 0)


def overview(event: Event) -> Overview:
    """Every session that has notes or a rapporteur, in programme order, with its counts (3 statements)."""
    assigned = (
        db.select(RapporteurAssignment.session_id)
        .join(Session, Session.id == RapporteurAssignment.session_id)
        .where(Session.event_id == event.id)
    )
    stats = db.session.execute(
        db.select(NoteItem.session_id, *_count_columns())
        .where(NoteItem.event_id == event.id)
        .group_by(NoteItem.session_id, NoteItem.kind)
    ).all()
    with_items = {row[0] for row in stats}
    sessions = list(
        db.session.scalars(
            db.select(Session)
            .options(joinedload(Session.room))
            .where(Session.event_id == event.id, or_(Session.id.in_(assigned), Session.id.in_(with_items)))
            .order_by(Session.starts_at, Session.code)
        )
    )
    rows = {s.id: SessionNotes(session=s) for s in sessions}
    for session_id, name, email in db.session.execute(
        db.select(RapporteurAssignment.session_id, User.name, User.email)
        .join(User, User.id == RapporteurAssignment.user_id)
        .join(Session, Session.id == RapporteurAssignment.session_id)
        .where(Session.event_id == event.id)
        .order_by(User.name, User.email)
    ):
        rows[session_id].rapporteurs.append(display_name(name, email))
    for session_id, *counts in stats:
        if session_id in rows:
            _add_counts(rows[session_id], *counts)
    for row in rows.values():
        _sort_kinds(row)
    listed = list(rows.values())
    return Overview(
        sessions=listed,
        total=sum(r.total for r in listed),
        highlighted=sum(r.highlighted for r in listed),
        excluded=sum(r.excluded for r in listed),
    )


def latest(event: Event, limit: int = LATEST_SHOWN) -> list[LatestItem]:
    """The newest items across every room (by arrival on the server), deleted ones left out (1 statement)."""
    rows = db.session.execute(
        db.select(NoteItem, Session.code, Session.title, User.name, User.email)
        .join(Session, Session.id == NoteItem.session_id)
        .outerjoin(User, User.id == NoteItem.author_id)
        .where(NoteItem.event_id == event.id, _live())
        .order_by(NoteItem.created_at.desc(), NoteItem.id.desc())
        .limit(limit)
    ).all()
    return [
        LatestItem(item=item, code=code, title=title, author=display_name(name, email) if (name or email) else "")
        for item, code, title, name, email in rows
    ]


def session_counts(event: Event, session: Session) -> SessionNotes:
    """One session's counts (the heading of its moderation page)."""
    row = SessionNotes(session=session)
    for counts in db.session.execute(
        db.select(*_count_columns()).where(NoteItem.session_id == session.id).group_by(NoteItem.kind)
    ):
        _add_counts(row, *counts)
    _sort_kinds(row)
    row.rapporteurs = [
        display_name(name, email)
        for name, email in db.session.execute(
            db.select(User.name, User.email)
            .join(RapporteurAssignment, RapporteurAssignment.user_id == User.id)
            .where(RapporteurAssignment.session_id == session.id)
            .order_by(User.name, User.email)
        )
    ]
    return row


def session_items(session: Session) -> SessionItems:
    """All of a session's items with their revisions, and the names of everyone who wrote them
    (3 statements)."""
    items = list(
        db.session.scalars(
            db.select(NoteItem)
            .options(selectinload(NoteItem.revisions))
            .where(NoteItem.session_id == session.id)
            .order_by(NoteItem.position.desc(), NoteItem.id.desc())
        )
    )
    ids = {item.author_id for item in items}
    ids |= {revision.user_id for item in items for revision in item.revisions}
    return SessionItems(
        live=[item for item in items if item.deleted_at is None],
        removed=[item for item in items if item.deleted_at is not None],
        names=user_names(ids),
    )


def find_item(event: Event, item_id: int) -> NoteItem | None:
    """One item of the event with its session (None for another event's item)."""
    return db.session.scalar(
        db.select(NoteItem).options(joinedload(NoteItem.session)).filter_by(id=item_id, event_id=event.id)
    )


def attribution_line(item, anonymous: str = "") -> str:
    """"Name, job title, organisation" of an item (or of a revision), empty when nobody is named."""
    return domain.Attribution(
        name=item.attribution_name, job_title=item.attribution_job_title,
        organisation=item.attribution_organisation,
    ).line(anonymous)


def attribution_line_of(attribution: dict | None) -> str:
    """The same line from an item's JSON attribution ({name, job_title, organisation} or None)."""
    attribution = attribution or {}
    return domain.Attribution(
        name=attribution.get("name") or "", job_title=attribution.get("job_title") or "",
        organisation=attribution.get("organisation") or "",
    ).line("")
