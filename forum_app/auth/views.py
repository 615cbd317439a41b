"""Staff login and logout, and the staff home listing the events one works on."""
from __future__ import annotations

import math
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError

from forum_app import clock
from forum_app.admin.rapporteur_forms import ChoosePasswordForm
from forum_app.auth import services
from forum_app.auth.forms import LoginForm
from forum_app.errors import DomainError
from forum_app.extensions import limiter
from forum_app.i18n import format_clock, local_time
from forum_app.notes import rapporteurs

bp = Blueprint("auth", __name__)

LOGIN_RATE_LIMIT = "10/minute"


def _landing(user) -> str:
    slug = services.home_event_slug(user)
    if slug:
        return url_for("admin.dashboard", slug=slug)
    return url_for("auth.staff_home")


@bp.route("/login", methods=["GET", "POST"])
# Only failed attempts count: the whole team often logs in at once from the venue's one IP address.
@limiter.limit(LOGIN_RATE_LIMIT, methods=["POST"], deduct_when=lambda response: response.status_code != 302)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = services.safe_next_path(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or _landing(current_user))
    status, headers = 200, {}
    if form.validate_on_submit():
        attempt = services.log_in(form.email.data, form.password.data)
        if attempt.user is not None:
            login_user(attempt.user, remember=False)
            flash(_("Bonjour %(name)s, vous êtes connecté·e.", name=attempt.user.name or attempt.user.email), "success")
            return redirect(services.safe_next_path(form.next.data) or _landing(attempt.user))
        if attempt.locked_until is not None:
            # The same words for every address, known or not: they tell nobody which accounts exist.
            form.form_errors.append(_locked_message(attempt.locked_until))
            status, headers = 429, {"Retry-After": str(_seconds_until(attempt.locked_until))}
        else:
            form.form_errors.append(_("Adresse e-mail ou mot de passe incorrect."))
            status = 401
    elif request.method == "POST":
        status = 422
    form.password.data = ""
    return render_template("auth/login.html", form=form), status, headers


def _seconds_until(moment) -> int:
    return max(1, math.ceil((moment - clock.now()).total_seconds()))


def _locked_message(until) -> str:
    """'… Réessayez à partir de 14 h 31 …' in the site's time zone, rounded up to the minute."""
    local = local_time(until, current_app.config["BABEL_DEFAULT_TIMEZONE"])
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return _(
        "Trop d'échecs de connexion : par sécurité, ce compte est temporairement verrouillé. "
        "Réessayez à partir de %(time)s, ou demandez à l'équipe d'organisation de le débloquer.",
        time=format_clock(local),
    )


@bp.errorhandler(429)
def too_many_attempts(error):
    if request.endpoint == "auth.invitation":
        return _invitation_refused(_("Trop de tentatives. Patientez une minute avant de réessayer."), 429)
    form = LoginForm()
    form.next.data = services.safe_next_path(request.values.get("next")) or ""
    form.form_errors.append(_("Trop de tentatives de connexion. Patientez une minute avant de réessayer."))
    return render_template("auth/login.html", form=form), 429


@bp.errorhandler(CSRFError)
def stale_form(error):
    """A login form left open too long, or a forged post: show the form again, log nobody in or out."""
    if request.endpoint == "auth.invitation":
        return _invitation_refused(_("Le formulaire a expiré ou n'est pas valide : veuillez réessayer."), 400)
    form = LoginForm()
    form.next.data = services.safe_next_path(request.values.get("next")) or ""
    form.form_errors.append(_("Le formulaire a expiré ou n'est pas valide : veuillez réessayer."))
    return render_template("auth/login.html", form=form), 400


@bp.post("/logout")
def logout():
    # A POST only, so a link or an image cannot log staff out; CSRFProtect checks the token first.
    if current_user.is_authenticated:
        logout_user()
        flash(_("Vous êtes déconnecté·e."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/admin/")
@login_required
def staff_home():
    entries = services.staff_events(current_user)
    endpoints = current_app.view_functions
    my_sessions = rapporteurs.my_sessions(current_user, [e.event for e in entries if e.role == rapporteurs.ROLE])
    return render_template("auth/staff_home.html", entries=entries, endpoints=endpoints, my_sessions=my_sessions)


# --- Invitation links (a new staff member chooses a password) ---

# The token is in the path: no Referer may carry it away, no cache may keep the page.
INVITATION_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _invitation_page(invitation, form, status: int, message: str | None = None):
    if form is not None:
        form.password.data = form.confirm.data = ""
    page = render_template("auth/invitation.html", invitation=invitation, form=form, message=message)
    return page, status, INVITATION_HEADERS


def _invitation_refused(message: str, status: int):
    """A refused post (too many attempts, stale form): the form again if the link still works."""
    invitation = rapporteurs.valid_invitation(((request.view_args or {}).get("token") or "").rstrip("/"))
    form = ChoosePasswordForm(formdata=None) if invitation else None
    if form is not None:
        form.form_errors.append(message)
    return _invitation_page(invitation, form, status, None if invitation else message)


@bp.route("/invitation/<path:token>", methods=["GET", "POST"])  # path: a mangled link still gets the French page
# Only failed posts count (a wrong token, a refused password), as for the login form.
@limiter.limit(LOGIN_RATE_LIMIT, methods=["POST"], deduct_when=lambda response: response.status_code != 302)
def invitation(token: str):
    token = token.rstrip("/")  # some mail clients add a slash to the links they show
    found = rapporteurs.valid_invitation(token)
    if found is None:  # unknown, used or expired: one answer for all three
        return _invitation_page(None, None, 404)
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            user = rapporteurs.accept_invitation(token, form.password.data)
        except DomainError as error:
            if error.status_code == 404:  # used by another tab in the meantime
                return _invitation_page(None, None, 404)
            form.password.errors = [*form.password.errors, error.message]
        else:
            login_user(user, remember=False)
            flash(_("Votre mot de passe est enregistré. Bienvenue, %(name)s.", name=user.name or user.email), "success")
            return redirect(_landing(user))
    return _invitation_page(found, form, 422 if request.method == "POST" else 200)
