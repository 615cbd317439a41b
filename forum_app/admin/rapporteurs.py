"""Organiser screens for rapporteurs (the rules are in forum_app.notes.rapporteurs).

- GET  /rapporteurs                                        the list: invitation state, sessions, actions;
                                                           the invitation form
- POST /rapporteurs/invite                                 invite -> the confirmation page with the link
- POST /rapporteurs/<user_id>/resend                       a new link (the old one stops working)
- POST /rapporteurs/<user_id>/sessions                     assign a session (field session_id)
- POST /rapporteurs/<user_id>/sessions/<session_id>/remove unassign
- GET|POST /rapporteurs/<user_id>/remove                   asks first, then removes the rapporteur role

The invitation link is shown once, in the answer to the POST that made it (never stored, never put in
the session cookie): reloading that page asks the browser to post again, which makes a new link.
Every route is guarded by `event_role_required("organiser")` (site admins pass).
"""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forum_app.admin.forms import ConfirmForm
from forum_app.admin.rapporteur_forms import AssignSessionForm, InviteRapporteurForm
from forum_app.errors import DomainError
from forum_app.notes import rapporteurs as services
from forum_app.security import event_role_required

bp = Blueprint("admin_rapporteurs", __name__, url_prefix="/e/<slug>/admin")

organiser_required = event_role_required("organiser")



@bp.app_context_processor
def session_rapporteurs():
    """`session_rapporteurs(session)` for the admin session page: who reports on it."""
    return {"session_rapporteurs": services.session_rapporteurs}


def _list_url(slug: str, user_id: int | None = None) -> str:
    return url_for("admin_rapporteurs.rapporteurs", slug=slug, _anchor=f"rapporteur-{user_id}" if user_id else None)


def _assign_form(row, sessions) -> AssignSessionForm:
    form = AssignSessionForm(formdata=None, prefix=f"r{row.user.id}")
    taken = {line.id for line in row.sessions}
    form.set_choices(
        [line for line in sessions if line.id not in taken],
        _("Session à confier à %(name)s", name=row.user.name or row.user.email),
    )
    return form


def _list_page(invite_form: InviteRapporteurForm, status: int = 200):
    event = g.event
    rows = services.rapporteurs(event)
    sessions = services.assignable_sessions(event)
    return (
        render_template(
            "admin/rapporteurs/list.html",
            event=event,
            rows=rows,
            assign_forms={row.user.id: _assign_form(row, sessions) for row in rows},
            invite_form=invite_form,
            action_form=ConfirmForm(formdata=None),
        ),
        status,
    )


def _invited_page(invitation, *, resent: bool):
    return render_template("admin/rapporteurs/invited.html", event=g.event, invitation=invitation, resent=resent)


@bp.get("/rapporteurs")
@organiser_required
def rapporteurs(slug: str):
    return _list_page(InviteRapporteurForm(formdata=None))


@bp.post("/rapporteurs/invite")
@organiser_required
def invite(slug: str):
    form = InviteRapporteurForm()
    if form.validate_on_submit():
        try:
            invitation = services.invite(g.event, form.email.data, form.name.data, by=current_user)
        except DomainError as error:
            if error.field in form:
                form[error.field].errors = [*form[error.field].errors, error.message]
            else:
                form.form_errors.append(error.message)
        else:
            return _invited_page(invitation, resent=False)
    return _list_page(form, 422)


@bp.post("/rapporteurs/<int:user_id>/resend")
@organiser_required
def resend(slug: str, user_id: int):
    if not ConfirmForm().validate_on_submit():
        return redirect(_list_url(slug, user_id))
    invitation = services.resend(g.event, user_id, by=current_user)
    return _invited_page(invitation, resent=True)


@bp.post("/rapporteurs/<int:user_id>/sessions")
@organiser_required
def assign(slug: str, user_id: int):
    user = services.get_rapporteur(g.event, user_id)
    form = AssignSessionForm(prefix=f"r{user.id}")
    form.set_choices(services.assignable_sessions(g.event))
    if not form.validate_on_submit():
        flash(_("Choisissez une session dans la liste."), "error")
        return redirect(_list_url(slug, user.id))
    try:
        session, added = services.assign(g.event, user.id, form.session_id.data, actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        name = user.name or user.email
        if added:
            flash(_("%(name)s rapporte désormais la session %(code)s.", name=name, code=session.code), "success")
        else:
            flash(_("%(name)s rapportait déjà la session %(code)s.", name=name, code=session.code), "info")
    return redirect(_list_url(slug, user.id))


@bp.post("/rapporteurs/<int:user_id>/sessions/<int:session_id>/remove")
@organiser_required
def unassign(slug: str, user_id: int, session_id: int):
    if ConfirmForm().validate_on_submit():
        session, removed = services.unassign(g.event, user_id, session_id, actor=current_user)
        user = services.get_rapporteur(g.event, user_id)
        name = user.name or user.email
        if removed:
            flash(_("%(name)s ne rapporte plus la session %(code)s.", name=name, code=session.code), "success")
        else:
            flash(_("%(name)s ne rapportait pas la session %(code)s.", name=name, code=session.code), "info")
    return redirect(_list_url(slug, user_id))


@bp.route("/rapporteurs/<int:user_id>/remove", methods=["GET", "POST"])
@organiser_required
def remove(slug: str, user_id: int):
    user = services.get_rapporteur(g.event, user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.remove_role(g.event, user.id, actor=current_user)
        flash(_("%(name)s n'est plus rapporteur·e de cet événement.", name=user.name or user.email), "success")
        return redirect(_list_url(slug))
    rows = [row for row in services.rapporteurs(g.event) if row.user.id == user.id]
    return render_template("admin/rapporteurs/remove.html", event=g.event, row=rows[0], form=form)
