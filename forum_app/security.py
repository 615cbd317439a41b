"""Security defaults: response headers, cookies, the reverse proxy, the API's rate limit, staff
login and role checks."""
from __future__ import annotations

import math
import time
from functools import wraps

from flask import Blueprint, Flask, abort, current_app, g, jsonify, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy import bindparam
from sqlalchemy.orm import joinedload
from werkzeug.middleware.proxy_fix import ProxyFix

from forum_app.devices import domain as device_domain
from forum_app.extensions import csrf, db, limiter, login_manager

# No inline script or style anywhere; pages that need more extend one directive of this, on that
# page only: the check-in station ('wasm-unsafe-eval' for the QR polyfill, checkin/views.py) and
# the rapporteurs' capture page (blob: images for photo previews, notes/views.py).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
# The door station films badges (getUserMedia). The rapporteurs' photo field needs no permission:
# `<input capture>` hands over to the phone's own camera app.
CAMERA_ENDPOINTS = frozenset({"checkin.station"})
CAMERA_PERMISSIONS_POLICY = PERMISSIONS_POLICY.replace("camera=()", "camera=(self)")
HSTS = "max-age=31536000; includeSubDomains"
# Files other sites may load from theirs: the published report's photos (the organisers' own
# site, a newsletter). Everything else is same-origin; CORS answers (schedule, public keys:
# Access-Control-Allow-Origin: *) are cross-origin too.
CROSS_ORIGIN_ENDPOINTS = frozenset({"report.photo"})


# Built once, on first use (the models are imported late to keep this module import-light).
_user_statement: dict = {}


def init_app(app: Flask) -> None:
    if app.config.get("TRUST_PROXY"):
        # One proxy in front (nginx, Caddy): its X-Forwarded-For/-Proto/-Host are the client's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    _secure_cookies(app)
    _csrf_unless_device_token(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Connectez-vous pour accéder à cette page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from forum_app.auth.models import User

        if not (user_id.isascii() and user_id.isdigit()):
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
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy",
            CAMERA_PERMISSIONS_POLICY if request.endpoint in CAMERA_ENDPOINTS else PERMISSIONS_POLICY,
        )
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        public = headers.get("Access-Control-Allow-Origin") == "*" or request.endpoint in CROSS_ORIGIN_ENDPOINTS
        headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin" if public else "same-origin")
        if request.is_secure:  # over TLS only (behind a proxy: TRUST_PROXY=1 makes X-Forwarded-Proto count)
            headers.setdefault("Strict-Transport-Security", HSTS)
        if response.status_code == 429 and "Retry-After" not in headers:
            headers["Retry-After"] = str(_retry_after_seconds())
        if "/admin" in request.path or request.path == "/login":
            headers["Cache-Control"] = "no-store"
        return response


def _csrf_unless_device_token(app: Flask) -> None:
    """CSRF on every form and API call, as Flask-WTF does by default, except an API call made
    with a door device's bearer token: the API then judges the token alone and ignores any session
    cookie (api.views.api_role_required), so a forged cross-site request gains nothing from the
    browser's cookies, and a cross-site page cannot set an Authorization header without CORS."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # Flask-WTF's own hook stands down; this one runs instead

    @app.before_request
    def csrf_protect():
        if not app.config["WTF_CSRF_ENABLED"]:
            return
        if request.blueprint == "api" and device_domain.bearer_secret(request.headers.get("Authorization")) is not None:
            return
        csrf.protect(apply_exemptions=True)


def _secure_cookies(app: Flask) -> None:
    """Secure cookies when the site is served over https (PUBLIC_BASE_URL), unless set off."""
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = str(app.config.get("PUBLIC_BASE_URL") or "").startswith("https://")
    if app.config.get("REMEMBER_COOKIE_SECURE") is None:
        app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]


def _retry_after_seconds() -> int:
    """Seconds until the rate limit this request broke lets it through again (60 when unknown)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


# --- The JSON API's rate limit -------------------------------------------------------------------


def staff_or_address() -> str:
    """Who an API request counts for: the door device (its token), the signed-in staff member,
    else the client's address."""
    secret = device_domain.bearer_secret(request.headers.get("Authorization"))
    if secret:
        return "device:" + device_domain.digest(secret)[:24]
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return f"address:{get_remote_address()}"


def _api_rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def limit_api(bp: Blueprint) -> None:
    """One shared budget per staff member across the whole API (API_RATE_LIMIT), and its 429 in JSON.

    Generous for people (a door station scans at most about twice a second), it stops a runaway
    script or a stolen session hammering the server. The offline queues of the check-in and notes
    pages keep what they could not send and retry after Retry-After.
    """
    limiter.shared_limit(_api_rate_limit, scope="api", key_func=staff_or_address)(bp)
    bp.register_error_handler(429, _api_rate_limited)


def _api_rate_limited(error):
    response = jsonify(
        error=429,
        code="rate_limited",
        message=gettext("Trop de requêtes en peu de temps : patientez quelques secondes avant de réessayer."),
    )
    response.status_code = 429
    response.headers["Cache-Control"] = "no-store"
    response.headers["Retry-After"] = str(_retry_after_seconds())
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
