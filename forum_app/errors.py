"""Domain errors and the one error handler that renders errors/<code>.html (or JSON for the API)."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
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


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        response = _render(error.code or 500)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            body, status = response
            return body, status, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(DomainError)
    def handle_domain(error: DomainError):
        return _render(error.status_code, error.message)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return handle_http(error)
        # The route's pattern, not the path: paths can hold secrets (/me/<token>, /invitation/<token>).
        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        app.logger.exception("Unhandled error on %s %s", request.method, rule)
        return _render(500)
