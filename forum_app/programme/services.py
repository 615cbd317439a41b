"""Programme use cases: find events and sessions, change the programme."""
from __future__ import annotations

from forum_app.errors import NotFound
from forum_app.extensions import db
from forum_app.programme.models import Event, Session


def get_event(slug: str) -> Event:
    event = db.session.scalar(db.select(Event).filter_by(slug=slug))
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
