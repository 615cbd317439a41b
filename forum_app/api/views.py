"""JSON API for door stations and rapporteurs: `/api/v1/e/<slug>/...`.

Staff only: a signed-in volunteer or organiser of the event for check-ins, a rapporteur (of that
session) or organiser for notes (site admins pass everywhere), with the session
cookie and, for POSTs, the CSRF token in the `X-CSRFToken` header (Flask-WTF's CSRFProtect reads
it). Every answer is JSON, errors too: 401 when not signed in (never a redirect to the login
page), 403 for a role that may not, 400 malformed JSON, 413 oversized body, 415 not JSON,
422 a field that cannot be used (`field` names it).
"""
from __future__ import annotations

import hashlib
from datetime import date
from functools import wraps

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from forum_app import security
from forum_app.checkin import dashboard
from forum_app.checkin import kit as station_kit
from forum_app.checkin import services as checkin
from forum_app.db import MAX_ID
from forum_app.devices import domain as device_domain
from forum_app.devices import services as device_services
from forum_app.errors import DomainError, InvalidInput
from forum_app.notes import domain as notes_domain
from forum_app.notes import photo_views, photos
from forum_app.notes import services as notes
from forum_app.programme.services import get_event
from forum_app.registration.labels import CATEGORY_LABELS

bp = Blueprint("api", __name__, url_prefix="/api/v1/e/<slug>")
# API_RATE_LIMIT per staff member (per address when anonymous); 429 {"code": "rate_limited"} + Retry-After.
security.limit_api(bp)

MAX_BODY = 8 * 1024  # a scan is a few hundred bytes; anything this big is not one
STAFF = ("organiser", "volunteer")
ORGANISERS = ("organiser",)
NOTE_WRITERS = ("organiser", "rapporteur")  # and, per session, notes.services.can_write
NOTE_BODY_MAX = 64 * 1024  # 5,000 characters of any script, an attribution, and JSON around them


def _error(status: int, message: str, **extra):
    response = jsonify(error=status, message=message, **extra)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _messages() -> dict[int, str]:
    return {
        400: _("Requête invalide."),
        401: _("Connectez-vous pour utiliser le poste d'accueil."),
        403: _("Votre rôle ne permet pas cette action pour cet événement."),
        404: _("Introuvable."),
        405: _("Méthode non permise."),
        413: _("Requête trop volumineuse."),
        415: _("Envoyez du JSON (Content-Type: application/json)."),
    }


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError):
    return _error(400, _("Jeton CSRF manquant ou invalide : rechargez la page du poste."), code="csrf")


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    extra = {"code": error.code}
    if error.field:
        extra["field"] = error.field
    if isinstance(error, InvalidInput) and error.problems:
        extra["problems"] = [str(p) for p in error.problems]
    return _error(error.status_code, str(error.message), **extra)


@bp.errorhandler(notes.EditConflict)
def _edit_conflict(error: notes.EditConflict):
    return _error(409, str(error.message), code=error.code, current=_with_photo_urls(error.current))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    status = error.code or 500
    response = _error(status, _messages().get(status, error.name))
    if status == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def api_role_required(*roles: str, devices: bool = False):
    """Signed in (401 JSON otherwise), and one of `roles` at the event (403 JSON; admins pass).

    `devices`: a door device of the event may call it too, with `Authorization: Bearer <token>`
    (forum_app/devices). A request carrying a Bearer header is judged on its token alone, never on
    a session cookie it may also carry (which is why it needs no CSRF token: security.py).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            secret = device_domain.bearer_secret(request.headers.get("Authorization"))
            if secret is not None:
                return _as_device(secret, devices, view, args, kwargs)
            if not current_user.is_authenticated:
                return _error(401, _messages()[401])
            event = get_event(kwargs["slug"])
            if not (current_user.is_admin or current_user.role_at(event.id) in roles):
                return _error(403, _messages()[403])
            g.event = event
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _as_device(secret: str, allowed: bool, view, args, kwargs):
    device = device_services.device_for_secret(secret) if secret else None
    if device is None:
        response = _error(401, _("Jeton d'appareil inconnu ou révoqué : demandez-en un nouveau à l'organisation."),
                          code="invalid_token")
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    event = get_event(kwargs["slug"])
    if device.event_id != event.id:
        return _error(403, _("Cet appareil est enregistré pour un autre événement."), code="wrong_event")
    if not allowed:
        return _error(403, _("Un appareil d'accueil ne peut que scanner les badges et charger la liste."),
                      code="device_not_allowed")
    device_services.note_use(device)
    g.event = event
    g.device = device
    return view(*args, **kwargs)


def _staff_member():
    """Who is acting: the signed-in account, or None for a door device (its id is `g.device`)."""
    return None if g.get("device") is not None else current_user._get_current_object()


def _json_body(limit: int = MAX_BODY) -> dict:
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    request.max_content_length = limit  # chunked bodies too
    if not request.is_json:
        abort(415)
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # arrays nested deeper than the parser goes: no body of ours
        data = None
    if data is None:
        raise _BadRequest(_("Corps JSON illisible."))
    if not isinstance(data, dict):
        raise _BadRequest(_("Le corps doit être un objet JSON."))
    _refuse_nul(data)
    return data


def _refuse_nul(fields) -> None:
    """A field holding the NUL character (U+0000) anywhere, even nested, is a 422 naming it:
    PostgreSQL can store or compare no text holding one (it was a 500 there)."""
    for key, value in fields.items():
        pending = [key, value]
        while pending:
            item = pending.pop()
            if isinstance(item, str) and "\x00" in item:
                field = key if isinstance(key, str) and "\x00" not in key else None
                raise InvalidInput(_("Caractère nul (U+0000) refusé : retirez-le du texte."), field=field)
            if isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)


class _BadRequest(DomainError):
    status_code = 400
    code = "bad_request"


@bp.post("/checkins")
@api_role_required(*STAFF, devices=True)
def checkins(slug: str):
    data = _json_body()
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise InvalidInput(_("« force » doit valoir true ou false."), field="force")
    recorded = checkin.check_in(
        g.event,
        badge=data.get("badge"),
        registration_id=data.get("registration_id"),
        client_id=data.get("client_id"),
        station=data.get("station", ""),
        scanned_at=data.get("scanned_at"),
        session_code=data.get("session"),
        user=_staff_member(),
        device_id=g.device.id if g.get("device") is not None else None,
        force=force,
    )
    response = jsonify(recorded.answer)
    response.status_code = 201 if recorded.created else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/checkin-kit")
@api_role_required(*STAFF, devices=True)
def checkin_kit(slug: str):
    kit = station_kit.checkin_kit(g.event)
    if request.if_none_match and request.if_none_match.contains_weak(kit.version):
        return _not_modified(kit.version)
    response = current_app.response_class(kit.json(), mimetype="application/json")
    response.set_etag(kit.version)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/checkins/<int:checkin_id>/undo")
@api_role_required(*ORGANISERS)
def undo(slug: str, checkin_id: int):
    row = checkin.undo_check_in(g.event, checkin_id, current_user._get_current_object())
    response = jsonify(
        id=row.id,
        outcome=row.outcome,
        undone_at=row.undone_at.isoformat() if row.undone_at else None,
        undone_by=row.undone_by_id,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_modified(etag: str):
    response = current_app.response_class(status=304)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/stats")
@api_role_required(*ORGANISERS)
def stats(slug: str):
    """The arrivals dashboard's figures as JSON (no personal data): totals, arrivals per 10 minutes
    of one day (`?day=YYYY-MM-DD`, default: today or the last day with arrivals), breakdowns by
    category, territory and delegation, per-session attendance, duplicates and refusals."""
    day = None
    if request.args.get("day"):  # before If-None-Match: a bad day is a 422, never a 304 (RFC 9110 13.2.1)
        try:
            day = date.fromisoformat(request.args["day"])
        except ValueError:
            raise InvalidInput(_("Jour invalide : AAAA-MM-JJ attendu."), field="day") from None
    etag = "stats-" + hashlib.sha1(
        f"{dashboard.version(g.event)}|{request.args.get('day', '')}|{request.accept_languages}".encode()
    ).hexdigest()[:20]
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        return _not_modified(etag)
    figures = dashboard.build(g.event, day=day)

    def rows(breakdown):
        return [
            {"key": row.key, "label": row.label, "registered": row.registered, "arrived": row.arrived}
            for row in breakdown
        ]

    categories = [
        {**row, "label": str(CATEGORY_LABELS[row["key"]]) if row["key"] in CATEGORY_LABELS else row["label"]}
        for row in rows(figures.by_category)
    ]
    response = jsonify(
        registered=figures.registered,
        arrived=figures.arrived,
        expected=figures.expected,
        last_arrival=figures.last_arrival.isoformat() if figures.last_arrival else None,
        duplicates=figures.duplicates,
        duplicates_from_another_station=figures.duplicates_elsewhere,
        refused=dict(figures.refusals),
        clock_suspect=figures.clock_suspect,
        days=[d.isoformat() for d in figures.days],
        day=figures.day.isoformat() if figures.day else None,
        arrivals_per_10_minutes=[{"start": b.start.isoformat(), "count": b.count} for b in figures.buckets],
        by_category=categories,
        by_territory=rows(figures.by_territory),
        by_delegation=rows(figures.by_delegation),
        sessions=[
            {"code": a.session.code, "title": a.session.title, "capacity": a.capacity, "confirmed": a.confirmed,
             "waitlisted": a.waitlisted, "scanned": a.scanned}
            for a in figures.sessions
        ],
        stations=[{"station": name, "arrivals": n, "duplicates": d} for name, n, d in figures.stations],
    )
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# --------------------------------------------------------------------------- notes


def _no_store(response, status: int = 200):
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/s/<code>/notes")
@api_role_required(*NOTE_WRITERS)
def add_note(slug: str, code: str):
    data = _json_body(NOTE_BODY_MAX)
    session = notes.get_session(g.event, code)
    saved = notes.add_item(g.event, session, current_user._get_current_object(), data)
    return _no_store(jsonify(_with_photo_urls(saved.item)), 201 if saved.created else 200)


@bp.patch("/notes/<int:item_id>")
@api_role_required(*NOTE_WRITERS)
def edit_note(slug: str, item_id: int):
    data = _json_body(NOTE_BODY_MAX)
    return _no_store(jsonify(_with_photo_urls(notes.edit_item(g.event, item_id, current_user._get_current_object(), data))))


@bp.get("/s/<code>/notes")
@api_role_required(*NOTE_WRITERS)
def list_notes(slug: str, code: str):
    """The session's items ({items, cursor, session}); `?since=<cursor>` only what changed after it.
    The ETag is the session's change counter: a poll that finds nothing new is a 304."""
    session = notes.get_session(g.event, code)
    user = current_user._get_current_object()
    if not notes.can_read(user, session):
        # With a code: the page then says "not your session" rather than "log in again".
        return _error(403, _("Vous n'êtes pas rapporteur·e de cette session."), code="not_assigned")
    raw = request.args.get("since", "")
    # ASCII digits only ("²".isdigit() is true, int("²") fails), and a counter value (INTEGER column)
    if raw and (not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or int(raw) > MAX_ID):
        raise InvalidInput(_("Curseur invalide : un entier est attendu."), field="since")
    since = int(raw) if raw else None
    etag = f"notes-{session.id}-{notes.stream_version(session)}-{raw}"
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        return _not_modified(etag)
    items, cursor = notes.items_since(session, since)
    response = jsonify(
        session={"code": session.code, "title": session.title, "people": notes.session_people(session)},
        items=[notes.item_json(item, photo_url=_photo_url) for item in items],
        cursor=cursor,
    )
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/s/<code>/notes/order")
@api_role_required(*NOTE_WRITERS)
def reorder_notes(slug: str, code: str):
    data = _json_body(NOTE_BODY_MAX)
    session = notes.get_session(g.event, code)
    items = notes.reorder(g.event, session, current_user._get_current_object(), data.get("ids"))
    return _no_store(jsonify(items=_with_photo_urls(items)))


@bp.post("/notes/<int:item_id>/merge")
@api_role_required(*ORGANISERS)
def merge_note(slug: str, item_id: int):
    data = _json_body()
    into = data.get("into")
    if isinstance(into, bool) or not isinstance(into, int) or not 0 < into <= MAX_ID:
        raise InvalidInput(_("« into » : l'identifiant de l'élément à garder est attendu."), field="into")
    return _no_store(jsonify(_with_photo_urls(notes.merge(g.event, item_id, into, current_user._get_current_object()))))


# --------------------------------------------------------------------------- photos

PHOTO_BODY_MAX = notes_domain.UPLOAD_MAX_BYTES + 64 * 1024  # the file, caption, credit and multipart around them
PHOTO_FLAGS = {"1": True, "true": True, "on": True, "0": False, "false": False, "off": False, "": False}


def _photo_url(item) -> str | None:
    return photo_views.photo_url(item, g.event)


def _with_photo_urls(answer):
    """Item answers (one dict or a list) with their photo's URL filled in; returned as given."""
    photo_views.with_photo_urls(g.event, answer if isinstance(answer, list) else [answer])
    return answer


@bp.url_value_preprocessor
def _photo_body_limit(endpoint, values):
    """A photo may weigh more than MAX_CONTENT_LENGTH. This runs before any before_request hook
    (CSRFProtect reads the form, so the multipart body, before the view runs)."""
    if endpoint == "api.add_photo":
        if request.content_length is not None and request.content_length > PHOTO_BODY_MAX:
            raise photos.too_large()
        request.max_content_length = PHOTO_BODY_MAX
        try:
            request.form  # noqa: B018 - parsed here, with our message for a chunked body over the limit
        except RequestEntityTooLarge:
            raise photos.too_large() from None


@bp.post("/s/<code>/photos")
@api_role_required(*NOTE_WRITERS)
def add_photo(slug: str, code: str):
    """A photo item from a multipart form: client_id, captured_at, caption, credit, highlighted
    ("1"/"0") and file. A replayed client_id gets the first answer (200) and stores no file."""
    session = notes.get_session(g.event, code)
    user = current_user._get_current_object()
    if not notes.can_write(user, session):
        return _error(403, _("Vous n'êtes pas rapporteur·e de cette session."), code="not_assigned")
    if request.mimetype != "multipart/form-data":
        return _error(415, _("Envoyez la photo en multipart/form-data."))
    form, files = request.form, request.files
    _refuse_nul(form.to_dict(flat=False))
    client_id = form.get("client_id")
    if notes_domain.valid_client_id(client_id):
        replayed = notes.replayed(g.event.id, client_id)
        if replayed is not None:
            return _no_store(jsonify(_with_photo_urls(replayed)), 200)
    credit = " ".join(form.get("credit", "").split())
    if len(credit) > notes_domain.CREDIT_MAX:
        raise InvalidInput(_("Crédit photo : %(limit)s caractères au plus (le texte n'a pas été coupé).",
                             limit=notes_domain.CREDIT_MAX), field="credit")
    highlighted = PHOTO_FLAGS.get(form.get("highlighted", "").strip().lower())
    if highlighted is None:
        raise InvalidInput(_("« highlighted » doit valoir 1 ou 0."), field="highlighted")
    upload = files.get("file")
    if upload is None:
        raise InvalidInput(str(photos.NO_FILE), field="file")
    photo = photos.store(g.event.id, upload.stream)
    data = {"client_id": client_id, "kind": notes_domain.PHOTO, "text": form.get("caption", ""),
            "captured_at": form.get("captured_at"), "highlighted": highlighted}
    try:
        saved = notes.add_item(g.event, session, user, data, photo={**photo, "credit": credit})
    except BaseException:
        photos.delete(g.event.id, photo["file"])
        raise
    if not saved.created:  # the same client_id stored meanwhile by a concurrent retry: keep its file only
        photos.delete(g.event.id, photo["file"])
    return _no_store(jsonify(_with_photo_urls(saved.item)), 201 if saved.created else 200)


# --------------------------------------------------------------------------- the OpenAPI document

from forum_app.api import openapi  # noqa: E402 (the document describes the routes above)

openapi.register(bp)  # GET /api/v1/openapi.json (public), endpoint api.openapi
