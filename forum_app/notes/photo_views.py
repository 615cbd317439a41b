"""Serving rapporteurs' photos: `GET /e/<slug>/notes/photos/<name>`.

Only to the staff who may read the photo's session (its rapporteurs, the event's organisers, site
admins). Names are random and never reused, so a browser may keep a photo for a year without
asking again; the cache is private (a shared proxy never holds a copy).
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, abort, send_file, url_for
from flask_login import current_user

from forum_app.extensions import db, login_manager
from forum_app.notes import photos
from forum_app.notes import services as notes
from forum_app.notes.models import NoteItem
from forum_app.programme.models import Event
from forum_app.programme.services import get_event

bp = Blueprint("notes_photos", __name__)

MIMETYPES = {"jpg": "image/jpeg", "png": "image/png"}


@bp.get("/e/<slug>/notes/photos/<name>")
def photo(slug: str, name: str):
    if not photos.valid_name(name):
        abort(404)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    event = get_event(slug)
    item = db.session.scalar(db.select(NoteItem).filter_by(event_id=event.id, photo_file=name))
    if item is None:
        abort(404)
    if not notes.can_read(current_user._get_current_object(), item.session):
        abort(403)
    path = photos.path_of(event.id, name)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=MIMETYPES[name.rsplit(".", 1)[1]], conditional=True, etag=True,
                         max_age=31536000)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- the URL in API answers


def photo_url(item: NoteItem, event: Event | None = None) -> str | None:
    """The photo's URL (for `notes.services.item_json(..., photo_url=...)`)."""
    if not item.photo_file:
        return None
    slug = event.slug if event is not None else db.session.get(Event, item.event_id).slug
    return url_for("notes_photos.photo", slug=slug, name=item.photo_file)


def with_photo_urls(event: Event, answers: Iterable[dict]) -> None:
    """Fill `photo.url` in item answers the services made without it (one query, photos only)."""
    missing = {a["id"]: a for a in answers if isinstance(a, dict) and a.get("photo") and not a["photo"].get("url")}
    if not missing:
        return
    rows = db.session.execute(
        db.select(NoteItem.id, NoteItem.photo_file).where(NoteItem.id.in_(missing), NoteItem.event_id == event.id)
    ).all()
    for item_id, name in rows:
        if name:
            missing[item_id]["photo"]["url"] = url_for("notes_photos.photo", slug=event.slug, name=name)
