"""Staff login and logout, and the staff home listing the events one works on."""
from __future__ import annotations

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

from forum_app.auth import services
from forum_app.auth.forms import LoginForm
from forum_app.extensions import limiter

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
    status = 200
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=False)
            flash(_("Bonjour %(name)s, vous êtes connecté·e.", name=user.name or user.email), "success")
            return redirect(services.safe_next_path(form.next.data) or _landing(user))
        form.form_errors.append(_("Adresse e-mail ou mot de passe incorrect."))
        status = 401
    elif request.method == "POST":
        status = 422
    form.password.data = ""
    return render_template("auth/login.html", form=form), status


@bp.errorhandler(429)
def too_many_attempts(error):
    form = LoginForm()
    form.next.data = services.safe_next_path(request.values.get("next")) or ""
    form.form_errors.append(_("Trop de tentatives de connexion. Patientez une minute avant de réessayer."))
    return render_template("auth/login.html", form=form), 429


@bp.errorhandler(CSRFError)
def stale_form(error):
    """A login form left open too long, or a forged post: show the form again, log nobody in or out."""
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
    return render_template("auth/staff_home.html", entries=entries, endpoints=endpoints)
