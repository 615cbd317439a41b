"""Organiser screens: they call other features' services and hold no rules of their own.

Every route is guarded by `event_role_required("organiser")` (site admins pass); tests/test_every_route.py
walks the URL map to make sure no route under /admin escapes it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user

from forum_app.admin.forms import (
    PERSON_ROLE_LABELS,
    SESSION_KIND_LABELS,
    ConfirmForm,
    PersonForm,
    RoomForm,
    SessionForm,
    SessionPersonForm,
    TrackForm,
)
from forum_app.errors import DomainError
from forum_app.programme import services
from forum_app.programme.domain import utc_to_local
from forum_app.programme.models import Session
from forum_app.registration import services as registration_services
from forum_app.security import event_role_required

bp = Blueprint("admin", __name__, url_prefix="/e/<slug>/admin")

organiser_required = event_role_required("organiser")



@bp.context_processor
def admin_context():
    return {"kind_labels": SESSION_KIND_LABELS, "role_labels": PERSON_ROLE_LABELS, "confirm_form": ConfirmForm()}


def _show_errors(form, error: DomainError) -> None:
    """Put a service's refusal next to the fields it concerns (or above the form)."""
    per_field = getattr(error, "errors", None) or ({error.field: [error.message]} if error.field else {})
    placed = False
    for name, messages in per_field.items():
        if name in form:
            form[name].errors = [*form[name].errors, *messages]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def _add_rule_problems(form: SessionForm, current=None) -> None:
    """A session form refused for its shape also shows the programme rules it breaks, all at once."""
    for name, messages in services.session_problems(g.event, _session_input(form), current).items():
        if name in form and not form[name].errors:
            form[name].errors = list(messages)


def _flash_clashes(session) -> None:
    """After a save that leads back to the dashboard: the clashes this session is part of."""
    for warning in services.programme_clashes(g.event, session):
        flash(_("À vérifier — %(warning)s", warning=warning.message), "warning")


# Dashboard ---------------------------------------------------------------------------------------


@dataclass
class Row:
    session: Session
    starts: datetime
    ends: datetime
    has_clash: bool


@bp.get("/")
@organiser_required
def dashboard(slug: str):
    event = g.event
    warnings = services.programme_clashes(event)
    clashing = {sid for w in warnings for sid in w.session_ids}
    days: dict[date, list[Row]] = {day: [] for day in event.days}
    outside: list[Row] = []
    for session in event.sessions:
        starts = utc_to_local(session.starts_at, event.timezone)
        row = Row(session, starts, utc_to_local(session.ends_at, event.timezone), session.id in clashing)
        days.get(starts.date(), outside).append(row)
    return render_template("admin/dashboard.html", event=event, days=days, outside=outside, warnings=warnings)


# Sessions ----------------------------------------------------------------------------------------


def _session_input(form: SessionForm) -> services.SessionInput:
    return services.SessionInput(
        code=form.code.data or "",
        title=form.title.data or "",
        subtitle=form.subtitle.data or "",
        kind=form.kind.data,
        track_id=form.track_id.data,
        room_id=form.room_id.data,
        day=form.day.data,
        starts=form.starts.data,
        ends=form.ends.data,
        abstract=form.abstract.data or "",
        description=form.description.data or "",
        signup_required=form.signup_required.data,
        capacity=form.capacity.data,
    )


@bp.route("/sessions/new", methods=["GET", "POST"])
@organiser_required
def session_new(slug: str):
    event = g.event
    form = SessionForm()
    form.set_choices(event)
    if request.method == "GET":
        form.day.data = event.start_date
    status = 200
    if form.validate_on_submit():
        try:
            session = services.create_session(event, _session_input(form), actor=current_user)
        except DomainError as error:
            _show_errors(form, error)
        else:
            # The session page this redirects to lists the session's clashes itself.
            flash(_("Session %(code)s créée. Ajoutez-y maintenant les intervenants.", code=session.code), "success")
            return redirect(url_for("admin.session_edit", slug=slug, session_id=session.id))
    elif request.method == "POST":
        _add_rule_problems(form)
    if request.method == "POST":
        status = 422
    return render_template("admin/session_form.html", event=event, form=form, session=None), status


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
@organiser_required
def session_edit(slug: str, session_id: int):
    event = g.event
    session = services.get_session_by_id(event, session_id)
    form = SessionForm(data=services.session_form_values(event, session) if request.method == "GET" else None)
    form.set_choices(event)
    status = 200
    if form.validate_on_submit():
        try:
            services.update_session(event, session, _session_input(form), actor=current_user)
            # A raised capacity (or sign-up no longer limited) seats the first people waiting.
            registration_services.on_capacity_changed(session)
        except DomainError as error:
            _show_errors(form, error)
        else:
            flash(_("Session %(code)s enregistrée.", code=session.code), "success")
            _flash_clashes(session)
            return redirect(url_for("admin.dashboard", slug=slug, _anchor=f"session-{session.id}"))
    elif request.method == "POST":
        _add_rule_problems(form, session)
    if request.method == "POST":
        status = 422
    person_form = SessionPersonForm()
    person_form.set_choices(event)
    return _session_page(form, person_form, session, status)


def _session_page(form, person_form, session, status):
    return (
        render_template(
            "admin/session_form.html",
            event=g.event,
            form=form,
            person_form=person_form,
            session=session,
            warnings=services.programme_clashes(g.event, session),
        ),
        status,
    )


@bp.post("/sessions/<int:session_id>/people")
@organiser_required
def session_person_add(slug: str, session_id: int):
    event = g.event
    session = services.get_session_by_id(event, session_id)
    person_form = SessionPersonForm()
    person_form.set_choices(event)
    if person_form.validate_on_submit():
        try:
            link = services.add_session_person(
                event, session, person_form.person_id.data, person_form.role.data, actor=current_user
            )
        except DomainError as error:
            _show_errors(person_form, error)
        else:
            flash(
                _(
                    "%(name)s ajouté·e comme %(role)s.",
                    name=link.person.name,
                    role=str(PERSON_ROLE_LABELS[link.role]).lower(),
                ),
                "success",
            )
            return redirect(url_for("admin.session_edit", slug=slug, session_id=session.id, _anchor="people"))
    form = SessionForm(data=services.session_form_values(event, session))
    form.set_choices(event)
    return _session_page(form, person_form, session, 422)


@bp.post("/sessions/<int:session_id>/people/<int:link_id>/remove")
@organiser_required
def session_person_remove(slug: str, session_id: int, link_id: int):
    session = services.get_session_by_id(g.event, session_id)
    if ConfirmForm().validate_on_submit():
        services.remove_session_person(g.event, session, link_id, actor=current_user)
        flash(_("Personne retirée de la session."), "success")
    return redirect(url_for("admin.session_edit", slug=slug, session_id=session.id, _anchor="people"))


@bp.route("/sessions/<int:session_id>/delete", methods=["GET", "POST"])
@organiser_required
def session_delete(slug: str, session_id: int):
    session = services.get_session_by_id(g.event, session_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        code = session.code
        services.delete_session(g.event, session, actor=current_user)
        flash(_("Session %(code)s supprimée.", code=code), "success")
        return redirect(url_for("admin.dashboard", slug=slug))
    return render_template(
        "admin/confirm_delete.html",
        event=g.event,
        form=form,
        what=_("la session %(code)s «\u00a0%(title)s\u00a0»", code=session.code, title=session.title),
        consequence=_("Ses intervenants restent dans la liste des personnes."),
        cancel_url=url_for("admin.session_edit", slug=slug, session_id=session.id),
    )


# Rooms, tracks, people: the same list / new / edit / delete screens ------------------------------


@dataclass(frozen=True)
class Catalogue:
    name: str  # endpoint stem: rooms -> admin.rooms, admin.room_new...
    item: str  # singular endpoint stem and URL parameter stem
    form: type
    fields: tuple[str, ...]
    title: object
    new_label: object
    created: object
    saved: object
    deleted: object
    consequence: object

    def items(self, event):
        return getattr(event, self.name)  # event.rooms, event.tracks, event.people

    def values(self, form) -> dict:
        return {name: form[name].data for name in self.fields}


ROOMS = Catalogue(
    "rooms", "room", RoomForm, ("name", "capacity"),
    _l("Salles"), _l("Nouvelle salle"), _l("Salle créée."), _l("Salle enregistrée."), _l("Salle supprimée."),
    _l("Les sessions prévues dans cette salle restent au programme, sans salle."),
)  # fmt: skip
TRACKS = Catalogue(
    "tracks", "track", TrackForm, ("name", "colour"),
    lazy_pgettext("pluriel", "Parcours"), _l("Nouveau parcours"), _l("Parcours créé."), _l("Parcours enregistré."), _l("Parcours supprimé."),
    _l("Les sessions de ce parcours restent au programme, sans parcours."),
)  # fmt: skip
PEOPLE = Catalogue(
    "people", "person", PersonForm, ("name", "job_title", "organisation"),
    _l("Personnes"), _l("Nouvelle personne"), _l("Personne créée."), _l("Personne enregistrée."),
    _l("Personne supprimée."), _l("Elle est retirée de toutes les sessions où elle intervient."),
)  # fmt: skip


def _catalogue_list(catalogue: Catalogue):
    return render_template("admin/catalogue_list.html", event=g.event, catalogue=catalogue, items=catalogue.items(g.event))


def _catalogue_form(catalogue: Catalogue, item=None):
    event = g.event
    form = catalogue.form(obj=item) if request.method == "GET" else catalogue.form()
    if form.validate_on_submit():
        try:
            if item is None:
                getattr(services, f"create_{catalogue.item}")(event, **catalogue.values(form), actor=current_user)
            else:
                getattr(services, f"update_{catalogue.item}")(event, item, **catalogue.values(form), actor=current_user)
        except DomainError as error:
            _show_errors(form, error)
        else:
            flash(str(catalogue.created if item is None else catalogue.saved), "success")
            return redirect(url_for(f"admin.{catalogue.name}", slug=event.slug))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/catalogue_form.html", event=event, catalogue=catalogue, form=form, item=item), status


def _catalogue_delete(catalogue: Catalogue, item):
    form = ConfirmForm()
    if form.validate_on_submit():
        getattr(services, f"delete_{catalogue.item}")(g.event, item, actor=current_user)
        flash(str(catalogue.deleted), "success")
        return redirect(url_for(f"admin.{catalogue.name}", slug=g.event.slug))
    return render_template(
        "admin/confirm_delete.html",
        event=g.event,
        form=form,
        what=_("«\u00a0%(name)s\u00a0»", name=item.name),
        consequence=catalogue.consequence,
        cancel_url=url_for(f"admin.{catalogue.name}", slug=g.event.slug),
    )


@bp.get("/rooms")
@organiser_required
def rooms(slug: str):
    return _catalogue_list(ROOMS)


@bp.route("/rooms/new", methods=["GET", "POST"])
@organiser_required
def room_new(slug: str):
    return _catalogue_form(ROOMS)


@bp.route("/rooms/<int:room_id>", methods=["GET", "POST"])
@organiser_required
def room_edit(slug: str, room_id: int):
    return _catalogue_form(ROOMS, services.get_room(g.event, room_id))


@bp.route("/rooms/<int:room_id>/delete", methods=["GET", "POST"])
@organiser_required
def room_delete(slug: str, room_id: int):
    return _catalogue_delete(ROOMS, services.get_room(g.event, room_id))


@bp.get("/tracks")
@organiser_required
def tracks(slug: str):
    return _catalogue_list(TRACKS)


@bp.route("/tracks/new", methods=["GET", "POST"])
@organiser_required
def track_new(slug: str):
    return _catalogue_form(TRACKS)


@bp.route("/tracks/<int:track_id>", methods=["GET", "POST"])
@organiser_required
def track_edit(slug: str, track_id: int):
    return _catalogue_form(TRACKS, services.get_track(g.event, track_id))


@bp.route("/tracks/<int:track_id>/delete", methods=["GET", "POST"])
@organiser_required
def track_delete(slug: str, track_id: int):
    return _catalogue_delete(TRACKS, services.get_track(g.event, track_id))


@bp.get("/people")
@organiser_required
def people(slug: str):
    return _catalogue_list(PEOPLE)


@bp.route("/people/new", methods=["GET", "POST"])
@organiser_required
def person_new(slug: str):
    return _catalogue_form(PEOPLE)


@bp.route("/people/<int:person_id>", methods=["GET", "POST"])
@organiser_required
def person_edit(slug: str, person_id: int):
    return _catalogue_form(PEOPLE, services.get_person(g.event, person_id))


@bp.route("/people/<int:person_id>/delete", methods=["GET", "POST"])
@organiser_required
def person_delete(slug: str, person_id: int):
    return _catalogue_delete(PEOPLE, services.get_person(g.event, person_id))
