"""Security defaults: response headers, staff login and role checks."""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam
from sqlalchemy.orm import joinedload

from forum_app.extensions import db, login_manager

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


# Built once, on first use (the models are imported late to keep this module import-light).
_user_statement: dict = {}


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Connectez-vous pour accéder à cette page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from forum_app.auth.models import User

        if not user_id.isdigit():
            return None
        # Roles come with the user: every staff request asks for the one at its event.
        statement = _user_statement.get("with_roles")
        if statement is None:
            statement = _user_statement["with_roles"] = (
                db.select(User).options(joinedload(User.roles)).where(User.id == bindparam("id"))
            )
        return db.session.execute(statement, {"id": int(user_id)}).unique().scalar_one_or_none()

    @app.after_request
    def secure_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
        if "/admin" in request.path or request.path == "/login":
            response.headers["Cache-Control"] = "no-store"
        return response


def event_role_required(*roles: str):
    """Staff view guard: logged in, and one of `roles` at the event named by `slug` (admins pass).

    The event is loaded once and left in `g.event` for the view.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from forum_app.programme.services import get_event

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            event = get_event(kwargs["slug"])
            if not (current_user.is_admin or current_user.role_at(event.id) in roles):
                abort(403)
            g.event = event
            return view(*args, **kwargs)

        return wrapped

    return decorator
