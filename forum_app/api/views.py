"""JSON API for door stations: `/api/v1/e/<slug>/...`.

Staff only: a signed-in volunteer or organiser of the event (site admins pass), with the session
cookie and, for POSTs, the CSRF token in the `X-CSRFToken` header (Flask-WTF's CSRFProtect reads
it). Every answer is JSON, errors too: 401 when not signed in (never a redirect to the login
page), 403 for a role that may not, 400 malformed JSON, 413 oversized body, 415 not JSON,
422 a field that cannot be used (`field` names it).
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from forum_app.checkin import services as checkin
from forum_app.errors import DomainError, InvalidInput
from forum_app.programme.services import get_event

bp = Blueprint("api", __name__, url_prefix="/api/v1/e/<slug>")

MAX_BODY = 8 * 1024  # a scan is a few hundred bytes; anything this big is not one
STAFF = ("organiser", "volunteer")
ORGANISERS = ("organiser",)


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


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    status = error.code or 500
    response = _error(status, _messages().get(status, error.name))
    if status == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def api_role_required(*roles: str):
    """Signed in (401 JSON otherwise), and one of `roles` at the event (403 JSON; admins pass)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return _error(401, _messages()[401])
            event = get_event(kwargs["slug"])
            if not (current_user.is_admin or current_user.role_at(event.id) in roles):
                return _error(403, _messages()[403])
            g.event = event
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _json_body() -> dict:
    if request.content_length is not None and request.content_length > MAX_BODY:
        abort(413)
    request.max_content_length = MAX_BODY  # chunked bodies too
    if not request.is_json:
        abort(415)
    data = request.get_json(silent=True)
    if data is None:
        raise _BadRequest(_("Corps JSON illisible."))
    if not isinstance(data, dict):
        raise _BadRequest(_("Le corps doit être un objet JSON."))
    return data


class _BadRequest(DomainError):
    status_code = 400
    code = "bad_request"


@bp.post("/checkins")
@api_role_required(*STAFF)
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
        user=current_user._get_current_object(),
        force=force,
    )
    response = jsonify(recorded.answer)
    response.status_code = 201 if recorded.created else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/checkin-kit")
@api_role_required(*STAFF)
def checkin_kit(slug: str):
    kit = checkin.checkin_kit(g.event)
    etag = kit["version"]
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        response = current_app.response_class(status=304)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    response = jsonify(kit)
    response.set_etag(etag)
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
