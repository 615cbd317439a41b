"""Domain errors and the one error handler that renders errors/<code>.html (or JSON for the API)."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from jinja2 import TemplateNotFound
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A rule of the domain refused the operation. `message` is shown to the user."""

    status_code = 400
    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class ServiceBusy(DomainError):
    """The database stayed busy longer than SQLITE_WRITE_TIMEOUT: nothing was written, try again.

    Answered 503 with `Retry-After` (seconds); the JSON API says `{"code": "busy"}` and the
    offline queues of the check-in and notes pages keep the item and send it again then.
    """

    status_code = 503
    code = "busy"
    retry_after = 5  # seconds

    def __init__(self, message: str | None = None):
        from flask_babel import gettext

        super().__init__(message or gettext(
            "Le serveur est très sollicité en ce moment : rien n'a été enregistré, réessayez dans quelques secondes."
        ))


class InvalidInput(DomainError):
    """Input that cannot be used; `problems` lists each one with where it is."""

    status_code = 422
    code = "invalid_input"

    def __init__(self, message: str, problems: list[str] | None = None, *, field: str | None = None):
        super().__init__(message, field=field)
        self.problems = problems or []


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(status: int, message: str | None = None):
    if _wants_json():
        return jsonify(error=status, message=message or ""), status
    try:
        return render_template(f"errors/{status}.html", message=message), status
    except TemplateNotFound:
        return render_template("errors/default.html", status=status, message=message), status


def _busy(error: ServiceBusy):
    from forum_app.extensions import db

    db.session.rollback()  # nothing half-written, and the page below may read (the signed-in user)
    if _wants_json():
        response = jsonify(error=503, code=error.code, message=error.message)
        response.status_code = 503
    else:
        response = _render(503, error.message)
        response = current_app.make_response(response)
    response.headers["Retry-After"] = str(error.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        response = _render(error.code or 500)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            body, status = response
            return body, status, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(CSRFError)
    def stale_form(error: CSRFError):
        """A form left open across a new login, or forged: nothing was saved; say so in French.
        (Blueprints with more to say, or JSON to answer, have their own handler.)"""
        return _render(400, gettext("Le formulaire a expiré : rien n'a été enregistré. Rechargez la page puis recommencez."))

    @app.errorhandler(DomainError)
    def handle_domain(error: DomainError):
        return _render(error.status_code, error.message)

    # --- Too busy: 503 + Retry-After, never a 500 (forum_app/db.py: begin_write, timeouts) ---
    from sqlalchemy.exc import OperationalError

    from forum_app.db import is_busy_error

    @app.errorhandler(ServiceBusy)
    def handle_busy(error: ServiceBusy):
        return _busy(error)

    @app.errorhandler(OperationalError)
    def handle_database_error(error: OperationalError):
        if not is_busy_error(error):
            return handle_unexpected(error)
        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        app.logger.warning("Database busy on %s %s: %s", request.method, rule, str(getattr(error, "orig", error))[:200])
        return _busy(ServiceBusy())

    @app.after_request
    def retry_after_on_503(response):
        # Blueprints that answer DomainErrors themselves (the JSON API) turn ServiceBusy into a 503
        # without the header: every 503 says when to come back.
        if response.status_code == 503 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(ServiceBusy.retry_after)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return handle_http(error)
        # The route's pattern, not the path: paths can hold secrets (/me/<token>, /invitation/<token>).
        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        app.logger.exception("Unhandled error on %s %s", request.method, rule)
        return _render(500)
