"""Organiser screens for registrations, delegations and exports (they call registration services).

- GET  /registrations                         the list: search, filters, sorting, 50 a page, counts per status
- GET  /registrations/export.csv|.xlsx        the list's filters, every page
- GET|POST /registrations/new                 someone registered at the desk (source "desk")
- GET  /registrations/<id>                    everything about one person, and the actions:
- GET|POST /registrations/<id>/edit           details and workshops
- POST /registrations/<id>/confirm|reject|resend
- GET|POST /registrations/<id>/cancel         asks first
- GET  /delegations, GET|POST /delegations/new, /delegations/<id>, /delegations/<id>/delete
- GET|POST /delegations/import                a delegation from a CSV file, all or nothing
- GET  /sessions/<code>/attendance.pdf        a workshop's attendance sheet

Badges are the badges feature's: this screen links to its PDFs and posts to its reissue route.
Every route is guarded by `event_role_required("organiser")` (site admins pass).
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from forum_app.admin.forms import ConfirmForm
from forum_app.admin.registration_forms import (
    DelegationForm,
    DelegationImportForm,
    DeskRegistrationForm,
    EditRegistrationForm,
    PersonDetailsForm,
)
from forum_app.errors import DomainError, InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.programme.domain import utc_to_local
from forum_app.programme.models import Session
from forum_app.registration import delegation_import as csv_import
from forum_app.registration import delegation_import_service as delegation_services
from forum_app.registration import exports, queries, services
from forum_app.registration.labels import CATEGORY_LABELS
from forum_app.registration.models import REGISTRATION_STATUSES, Registration
from forum_app.security import event_role_required

bp = Blueprint("admin_registrations", __name__, url_prefix="/e/<slug>/admin")

organiser_required = event_role_required("organiser")
DESK_CONSENT = "desk"  # consent given in person to the organiser who typed the registration in
MAX_BADGE_IDS = 50  # "badges of this page": one page of the list


@bp.errorhandler(413)
def too_large(error):
    """An upload over MAX_CONTENT_LENGTH: the import page again, with a message (never a bare error)."""
    if request.endpoint == "admin_registrations.delegation_import" and getattr(g, "event", None) is not None:
        form = DelegationImportForm(formdata=None)
        form.set_choices(services.delegations(g.event))
        form.file.errors = [_("Le fichier est trop lourd : 1 Mo au plus. Découpez la délégation en plusieurs fichiers.")]
        return _import_page(form, []), 413
    return render_template("errors/default.html", status=413, message=_("Le fichier envoyé est trop lourd.")), 413



@bp.context_processor
def registration_labels():
    return {
        "status_labels": exports.STATUS_LABELS,
        "category_labels": CATEGORY_LABELS,
        "source_labels": exports.SOURCE_LABELS,
        "seat_labels": exports.SEAT_LABELS,
        "confirm_form": ConfirmForm(formdata=None),  # its CSRF token only (never reads the request body)
        "badge_url": _badge_url,
    }


def _badge_url(event, kind: str, **values) -> str:
    """Links to the badges feature: its endpoint when registered, else the URL its contract names."""
    endpoints = {
        "sheets": ("badges.sheets_pdf", "/e/{slug}/admin/badges.pdf"),
        "one": ("badges.registration_badge_pdf", "/e/{slug}/admin/registrations/{registration_id}/badge.pdf"),
        "reissue": ("badges.reissue", "/e/{slug}/admin/registrations/{registration_id}/badge/reissue"),
        "page": ("badges.admin_badges", "/e/{slug}/admin/badges"),
    }
    endpoint, path = endpoints[kind]
    query = {k: v for k, v in values.items() if k != "registration_id"}
    if endpoint in current_app.view_functions:
        return url_for(endpoint, slug=event.slug, **values)
    url = request.script_root + path.format(slug=event.slug, **values)
    return url + ("?" + urlencode(query) if query else "")


def _show_errors(form, error: DomainError) -> None:
    """A service's refusal next to the fields it concerns, or above the form."""
    by_field = getattr(error, "by_field", None) or ({error.field: [error.message]} if error.field else {})
    placed = False
    for name, messages in by_field.items():
        name = {"workshop_codes": "workshops", "delegation_id": "delegation"}.get(name, name)
        if name in form:
            form[name].errors = [*form[name].errors, *[m[:1].upper() + m[1:] for m in messages]]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def _person_input(form: PersonDetailsForm, email: str, **extra) -> services.RegistrationInput:
    return services.RegistrationInput(
        first_name=form.first_name.data or "",
        last_name=form.last_name.data or "",
        email=email,
        organisation=form.organisation.data or "",
        job_title=form.job_title.data or "",
        category=form.category.data or "autre",
        territory=form.territory.data or "",
        delegation_id=form.delegation_id,
        accessibility_needs=form.accessibility_needs.data or "",
        workshop_codes=list(form.workshops.data or []),
        **extra,
    )


# --- The list -------------------------------------------------------------------------------------


@bp.get("/registrations")
@organiser_required
def registrations(slug: str):
    event = g.event
    filters = queries.parse_filters(request.args)
    page = queries.registrations_page(event, filters)
    counts = queries.status_counts(event, filters)
    seats = [seat for registration in page.items for seat in registration.seats]
    delegations = services.delegations(event)
    return render_template(
        "admin/registrations/list.html",
        event=event,
        filters=filters,
        page=page,
        counts=counts,
        all_count=sum(counts.values()),
        positions=services.waitlist_positions(seats),
        delegations=delegations,
        delegation_names={d.id: d.name for d in delegations},
        territories=queries.territories(event),
        workshops=queries.signup_sessions(event),
        sorts=SORT_LABELS,
        statuses=REGISTRATION_STATUSES,
        status_tab_labels=STATUS_TAB_LABELS,
        page_ids=",".join(str(r.id) for r in page.items[:MAX_BADGE_IDS]),
        to_local=_local,
    )


STATUS_TAB_LABELS = {
    "pending": _l("En attente"),
    "confirmed": _l("Confirmées"),
    "cancelled": _l("Annulées"),
    "rejected": _l("Refusées"),
}
SORT_LABELS = {
    "name": _l("Nom (A → Z)"),
    "organisation": _l("Organisation (A → Z)"),
    "date": _l("Date d'inscription (récentes d'abord)"),
    "status": _l("Statut"),
}


@bp.app_template_filter("registration_query")
def registration_query(filters: queries.RegistrationFilters, **changes) -> str:
    """'?status=confirmed&page=2' for a list link with `changes` applied ('' when nothing)."""
    args = filters.query_args(**changes)
    return "?" + urlencode(args) if args else ""


def _export_name(event, extension: str) -> str:
    return f"inscriptions-{event.slug}.{extension}"


def _export_table(event):
    filters = queries.parse_filters(request.args)
    people = queries.all_registrations(event, filters)
    positions = services.waitlist_positions(seat for person in people for seat in person.seats)
    return exports.registrations_table(event, people, positions)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/registrations/export.csv")
@organiser_required
def export_csv(slug: str):
    event = g.event
    data = exports.to_csv(_export_table(event))
    return _download(data, "text/csv; charset=utf-8", _export_name(event, "csv"))


@bp.get("/registrations/export.xlsx")
@organiser_required
def export_xlsx(slug: str):
    event = g.event
    data = exports.to_xlsx(_export_table(event), _("Inscriptions"))
    return _download(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _export_name(event, "xlsx"))


# --- One person -----------------------------------------------------------------------------------


def _registration(registration_id: int) -> Registration:
    return services.get_registration(g.event, registration_id)


def _local(moment):
    return utc_to_local(moment, g.event.timezone) if moment else None


@bp.get("/registrations/<int:registration_id>")
@organiser_required
def registration_detail(slug: str, registration_id: int):
    event = g.event
    registration = _registration(registration_id)
    return render_template(
        "admin/registrations/detail.html",
        event=event,
        registration=registration,
        seats=services.seats_with_positions(registration),
        dates={
            "created": _local(registration.created_at),
            "updated": _local(registration.updated_at),
            "confirmed": _local(registration.confirmed_at),
            "cancelled": _local(registration.cancelled_at),
            "consent": _local(registration.consent_at),
            "printed": _local(registration.badge_printed_at),
            "anonymised": _local(registration.anonymised_at),
        },
        to_local=_local,
    )


@bp.route("/registrations/new", methods=["GET", "POST"])
@organiser_required
def registration_new(slug: str):
    event = g.event
    form = DeskRegistrationForm()
    form.set_choices(services.delegations(event), queries.signup_sessions(event))
    if form.validate_on_submit():
        data = _person_input(form, form.email.data, consent=True, consent_version=DESK_CONSENT, language=event.default_locale or "fr")
        try:
            outcome = services.register(event, data, source="desk", actor=current_user)
        except DomainError as error:
            _show_errors(form, error)
        else:
            registration = outcome.registration
            if not outcome.created:
                flash(
                    _("%(email)s est déjà inscrit·e : rien n'a été créé, son lien personnel lui a été renvoyé.", email=registration.email),
                    "warning",
                )
            elif outcome.waitlisted_codes:
                flash(
                    _(
                        "%(name)s est inscrit·e ; liste d'attente pour %(codes)s.",
                        name=registration.full_name,
                        codes=", ".join(outcome.waitlisted_codes),
                    ),
                    "success",
                )
            else:
                flash(_("%(name)s est inscrit·e. Son lien personnel lui a été envoyé.", name=registration.full_name), "success")
            return redirect(url_for(".registration_detail", slug=slug, registration_id=registration.id))
    status = 422 if request.method == "POST" else 200
    return _person_form_page(form, None, True), status


@bp.route("/registrations/<int:registration_id>/edit", methods=["GET", "POST"])
@organiser_required
def registration_edit(slug: str, registration_id: int):
    event = g.event
    registration = _registration(registration_id)
    if registration.anonymised_at is not None:
        flash(_("Les données de cette personne ont été effacées : il n'y a plus rien à modifier."), "warning")
        return redirect(url_for(".registration_detail", slug=slug, registration_id=registration.id))
    current_codes = [seat.session.code for seat in registration.seats]
    if request.method == "GET":
        form = EditRegistrationForm(obj=registration)
        form.delegation.data = str(registration.delegation_id or "")
        form.workshops.data = current_codes
    else:
        form = EditRegistrationForm()
    form.set_choices(services.delegations(event), queries.signup_sessions(event))
    holding = registration.status in ("pending", "confirmed")
    if form.validate_on_submit():
        try:
            services.edit_by_organiser(
                registration, _person_input(form, form.email.data, language=registration.language), actor=current_user
            )
        except DomainError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            flash(_("Inscription de %(name)s enregistrée.", name=registration.full_name), "success")
            return redirect(url_for(".registration_detail", slug=slug, registration_id=registration.id))
    status = 422 if request.method == "POST" else 200
    return (
        _person_form_page(form, registration, holding),
        status,
    )


def _person_form_page(form, registration, holding: bool):
    """The desk and edit form; workshops are shown by time slot with the seats left."""
    event = g.event
    slots: dict = {}
    for item in services.availability(event):
        starts = utc_to_local(item.session.starts_at, event.timezone)
        key = (starts, utc_to_local(item.session.ends_at, event.timezone))
        slots.setdefault(key, []).append(item)
    return render_template(
        "admin/registrations/form.html",
        event=event,
        form=form,
        registration=registration,
        holding=holding,
        slots=sorted(slots.items(), key=lambda entry: entry[0]),
        chosen=set(form.workshops.data or []),
    )


def _action(registration_id: int, do, message: str):
    """A POST button on the detail page: CSRF checked, service called, back to the page."""
    registration = _registration(registration_id)
    if ConfirmForm().validate_on_submit():
        try:
            do(registration)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(message % {"name": registration.full_name}, "success")
    return redirect(url_for(".registration_detail", slug=g.event.slug, registration_id=registration.id))


@bp.post("/registrations/<int:registration_id>/confirm")
@organiser_required
def registration_confirm(slug: str, registration_id: int):
    return _action(
        registration_id,
        lambda registration: services.confirm(registration, actor=current_user),
        _("Inscription de %(name)s confirmée ; un e-mail l'en informe."),
    )


@bp.post("/registrations/<int:registration_id>/reject")
@organiser_required
def registration_reject(slug: str, registration_id: int):
    return _action(
        registration_id,
        lambda registration: services.reject(registration, actor=current_user),
        _("Inscription de %(name)s refusée ; un e-mail l'en informe."),
    )


@bp.post("/registrations/<int:registration_id>/resend")
@organiser_required
def registration_resend(slug: str, registration_id: int):
    return _action(registration_id, services.resend_link, _("Lien personnel renvoyé à %(name)s."))


@bp.route("/registrations/<int:registration_id>/cancel", methods=["GET", "POST"])
@organiser_required
def registration_cancel(slug: str, registration_id: int):
    event = g.event
    registration = _registration(registration_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.cancel(registration, actor=current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(
                _("Inscription de %(name)s annulée : ses places sont libérées et son badge ne permet plus d'entrer.", name=registration.full_name),
                "success",
            )
        return redirect(url_for(".registration_detail", slug=slug, registration_id=registration.id))
    return render_template("admin/registrations/cancel.html", event=event, form=form, registration=registration)


# --- Delegations ----------------------------------------------------------------------------------


@bp.get("/delegations")
@organiser_required
def delegations(slug: str):
    event = g.event
    return render_template("admin/registrations/delegations.html", event=event, rows=queries.delegations_with_counts(event))


def _delegation_values(form: DelegationForm) -> dict:
    return {
        "territory": form.territory.data or "",
        "contact_name": form.contact_name.data or "",
        "contact_email": form.contact_email.data or "",
    }


@bp.route("/delegations/new", methods=["GET", "POST"])
@organiser_required
def delegation_new(slug: str):
    event = g.event
    form = DelegationForm()
    if form.validate_on_submit():
        try:
            delegation = delegation_services.create_delegation(event, form.name.data, **_delegation_values(form))
        except DomainError as error:
            _show_errors(form, _on_name(error))
        else:
            flash(_("Délégation « %(name)s » créée.", name=delegation.name), "success")
            return redirect(url_for(".delegations", slug=slug))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/registrations/delegation_form.html", event=event, form=form, delegation=None), status


def _on_name(error: DomainError) -> DomainError:
    """The services file a delegation's name problems under "delegation": the form calls it "name"."""
    if getattr(error, "by_field", None):
        error.by_field = {("name" if k == "delegation" else k): v for k, v in error.by_field.items()}
    elif error.field == "delegation":
        error.field = "name"
    return error


@bp.route("/delegations/<int:delegation_id>", methods=["GET", "POST"])
@organiser_required
def delegation_edit(slug: str, delegation_id: int):
    event = g.event
    delegation = services.get_delegation(event, delegation_id)
    form = DelegationForm(obj=delegation) if request.method == "GET" else DelegationForm()
    if form.validate_on_submit():
        try:
            delegation_services.update_delegation(event, delegation, form.name.data, **_delegation_values(form))
        except DomainError as error:
            db.session.rollback()
            _show_errors(form, _on_name(error))
        else:
            flash(_("Délégation « %(name)s » enregistrée.", name=delegation.name), "success")
            return redirect(url_for(".delegations", slug=slug))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "admin/registrations/delegation_form.html",
            event=event,
            form=form,
            delegation=delegation,
            members=delegation_services.member_count(delegation),
        ),
        status,
    )


@bp.route("/delegations/<int:delegation_id>/delete", methods=["GET", "POST"])
@organiser_required
def delegation_delete(slug: str, delegation_id: int):
    event = g.event
    delegation = services.get_delegation(event, delegation_id)
    members = delegation_services.member_count(delegation)
    form = ConfirmForm()
    refusal = None
    if form.validate_on_submit():
        try:
            name = delegation.name
            delegation_services.delete_delegation(event, delegation)
        except DomainError as error:
            refusal = error.message
        else:
            flash(_("Délégation « %(name)s » supprimée.", name=name), "success")
            return redirect(url_for(".delegations", slug=slug))
    return (
        render_template(
            "admin/registrations/delegation_delete.html", event=event, form=form, delegation=delegation, members=members, refusal=refusal
        ),
        409 if refusal else 200,
    )


@bp.route("/delegations/import", methods=["GET", "POST"])
@organiser_required
def delegation_import(slug: str):
    event = g.event
    form = DelegationImportForm()
    form.set_choices(services.delegations(event))
    problems: list[str] = []
    if form.validate_on_submit():
        data = form.file.data.read()  # at most MAX_CONTENT_LENGTH: Flask refuses bigger requests (413)
        try:
            result = delegation_services.import_file(event, data, delegation_id=form.delegation_id, actor=current_user)
        except InvalidInput as error:
            form.file.errors = [*form.file.errors, error.message]
            problems = list(error.problems)
        except NotFound as error:
            form.delegation.errors = [*form.delegation.errors, error.message]
        else:
            count = len(result.registrations)
            flash(ngettext("%(num)d personne importée.", "%(num)d personnes importées.", count), "success")
            if result.created_delegations:
                flash(
                    _("Délégation créée : %(names)s.", names=", ".join(d.name for d in result.created_delegations)), "info"
                )
            if result.waitlisted:
                flash(
                    _(
                        "En liste d'attente : %(who)s.",
                        who=", ".join(f"{r.full_name} ({code})" for r, code in result.waitlisted),
                    ),
                    "warning",
                )
            for note in result.notes:
                flash(note, "info")
            delegation_ids = {r.delegation_id for r in result.registrations}
            args = {"delegation": delegation_ids.pop()} if len(delegation_ids) == 1 and None not in delegation_ids else {}
            return redirect(url_for(".registrations", slug=slug, **args))
    return _import_page(form, problems), 422 if request.method == "POST" else 200


def _import_page(form: DelegationImportForm, problems: list[str]):
    return render_template(
        "admin/registrations/import.html",
        event=g.event,
        form=form,
        problems=problems,
        max_rows=csv_import.MAX_ROWS,
        columns=csv_import.COLUMNS,
        workshops=queries.signup_sessions(g.event),
    )


# --- Attendance sheets ----------------------------------------------------------------------------


@bp.get("/sessions/<code>/attendance.pdf")
@organiser_required
def attendance_pdf(slug: str, code: str):
    event = g.event
    session = db.session.scalar(db.select(Session).where(Session.event_id == event.id, Session.code == code.upper()[:16]))
    if session is None:
        raise NotFound(_("Cette session n'existe pas."))
    data = exports.attendance_pdf(event, session, queries.attendance(event, session))
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="emargement-{event.slug}-{session.code}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response

