"""Attendee pages: register, and the attendee's own space behind their private link.

Decisions worth knowing:
- The confirmation page after registering never shows the private link. It always says the link
  was emailed, for a new registration and for an address already registered alike, so the page
  (and its timing, status code and wording) never tells anyone who is registered. The link is
  only ever in the email.
- A bot that fills the honeypot field meets the same confirmation page; nothing is stored or sent.
- The attendee's space (/me/<token>) is sent `Cache-Control: private, no-cache`: shared caches never
  keep it, the browser revalidates it, and the service worker keeps the last copy on the phone so
  the badge shows at the door without network. The other personal pages (forms, data download) are
  `no-store`. All of them carry `Referrer-Policy: no-referrer` (the token must never leak through a
  Referer header) and `X-Robots-Tag: noindex`.
- A wrong, altered or erased link is the same 404 page, word for word.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from itertools import groupby
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie_session
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from forum_app import clock, i18n
from forum_app.errors import InvalidInput, NotFound
from forum_app.extensions import limiter
from forum_app.programme import services as programme_services
from forum_app.programme.models import Event
from forum_app.registration import domain, services
from forum_app.registration.forms import (
    CATEGORY_LABELS,
    ConfirmForm,
    DetailsForm,
    RegistrationForm,
    WorkshopsForm,
)
from forum_app.registration.models import Registration

bp = Blueprint("registration", __name__)

REGISTER_RATE_LIMIT = "10/hour"  # per IP address, on POST only
REGISTERED_EMAIL_KEY = "registered_email"  # shown back on the confirmation page

# The attendee's space: kept by the service worker for offline use, revalidated on every visit.
ME_CACHE_CONTROL = "private, no-cache"
PERSONAL_CACHE_CONTROL = "private, no-store"
PERSONAL_ENDPOINTS = {
    "registration.me",
    "registration.edit_details",
    "registration.change_workshops",
    "registration.download_data",
    "registration.cancel",
    "registration.erase",
}
NO_STORE_ENDPOINTS = {"registration.register", "registration.registered", "registration.erased"}

# Where a service's field name differs from the form's.
SERVICE_FIELDS = {"workshop_codes": "workshops", "delegation_id": "delegation", "email_key": "email", "registration": ""}


# --- Register ---


@bp.route("/e/<slug>/register", methods=["GET", "POST"])
@limiter.limit(REGISTER_RATE_LIMIT, methods=["POST"])
def register(slug: str):
    event = _public_event(slug)
    window = domain.window_state(event.registration_opens_at, event.registration_closes_at, clock.now())
    if window != domain.WINDOW_OPEN:
        status = 200 if request.method == "GET" else 403
        return render_template("registration/closed.html", event=event, window=window, nav_current="register"), status

    form = RegistrationForm()
    if request.method == "POST" and form.website.data:
        # Honeypot: only a robot fills a field that people never see. Same answer, nothing stored.
        current_app.logger.info("registration honeypot filled on %s; nothing stored", slug)
        return redirect(url_for("registration.registered", slug=slug), code=303)

    form.set_delegations(services.delegations(event))
    available = services.availability(event)
    form.workshops.choices = [SelectChoice(item.session.code, item.session.title) for item in available]
    if form.validate_on_submit():
        try:
            services.register(event, _registration_input(form, event))
        except InvalidInput as error:
            _attach_problems(form, error)
        else:
            cookie_session[REGISTERED_EMAIL_KEY] = form.email.data
            return redirect(url_for("registration.registered", slug=slug), code=303)
    elif form.is_submitted():
        # The other fields need fixing first; say now, too, if the workshops chosen clash.
        _check_workshops(form, available)

    status = 422 if form.errors else 200
    html = render_template(
        "registration/register.html",
        event=event,
        form=form,
        slots=_workshop_slots(event, available),
        chosen=set(form.workshops.data or []),
        retention_months=domain.RETENTION_MONTHS,
        nav_current="register",
    )
    return html, status


@bp.get("/e/<slug>/register/merci")
def registered(slug: str):
    """The same page for a new registration, a known address and a robot: "check your mailbox"."""
    event = _public_event(slug)
    email = cookie_session.get(REGISTERED_EMAIL_KEY)
    return render_template("registration/registered.html", event=event, email=email, nav_current="register")


@bp.get("/e/<slug>/confidentialite")
def privacy(slug: str):
    event = _public_event(slug)
    return render_template(
        "registration/privacy.html",
        event=event,
        deleted_on=domain.erasure_date(event.end_date),
        retention_months=domain.RETENTION_MONTHS,
        contact=current_app.config.get("PRIVACY_CONTACT"),
        nav_current="privacy",
    )


@bp.errorhandler(429)
def too_many_requests(error):
    slug = (request.view_args or {}).get("slug")
    event = None
    if slug:
        try:
            event = programme_services.get_event(slug)
        except NotFound:
            event = None
    return render_template("registration/too_many.html", event=event), 429


# --- The attendee's space ---


@bp.get("/e/<slug>/me/<token>")
def me(slug: str, token: str):
    event, registration = _attendee(slug, token)
    tz = ZoneInfo(event.timezone)
    with_positions = services.seats_with_positions(registration)
    seats = [seat for seat, _position in with_positions]
    positions = {seat.id: position for seat, position in with_positions if position}
    agenda = [seat.session for seat in seats if seat.status == "confirmed"]
    badge_svg = None
    if registration.status == "confirmed":
        badge_svg = _badge_svg(registration)
    return render_template(
        "registration/me.html",
        event=event,
        registration=registration,
        token=token,
        tz=tz,
        seats=seats,
        positions=positions,
        agenda_days=[(day, list(items)) for day, items in groupby(agenda, key=lambda s: s.starts_at.astimezone(tz).date())],
        agenda_codes=",".join(s.code for s in agenda),
        category_label=_category_label(registration.category),
        badge_svg=badge_svg,
        badge_pdf_url=_badge_pdf_url(event, token),
        nav_current="me",
    )


@bp.route("/e/<slug>/me/<token>/modifier", methods=["GET", "POST"])
def edit_details(slug: str, token: str):
    event, registration = _attendee(slug, token)
    if (closed := _closed_for_changes(registration)) is not None:
        return closed
    form = DetailsForm(obj=None if request.method == "POST" else _details_defaults(registration))
    form.set_delegations(services.delegations(event))
    if form.validate_on_submit():
        try:
            services.update_details(registration, _details_input(form, registration))
        except InvalidInput as error:
            _attach_problems(form, error)
        else:
            flash(_("Vos informations ont été enregistrées."), "success")
            return redirect(url_for("registration.me", slug=slug, token=token), code=303)
    html = render_template(
        "registration/edit_details.html", event=event, registration=registration, token=token, form=form
    )
    return html, 422 if form.errors else 200


@bp.route("/e/<slug>/me/<token>/ateliers", methods=["GET", "POST"])
def change_workshops(slug: str, token: str):
    event, registration = _attendee(slug, token)
    if (closed := _closed_for_changes(registration)) is not None:
        return closed
    form = WorkshopsForm()
    available = services.availability(event)
    form.workshops.choices = [SelectChoice(item.session.code, item.session.title) for item in available]
    if request.method == "GET":
        form.workshops.data = [seat.session.code for seat in registration.seats]
    if form.validate_on_submit():
        try:
            seats = services.change_workshops(registration, list(form.workshops.data or []))
        except InvalidInput as error:
            _attach_problems(form, error)
        else:
            waiting = [seat for seat in seats if seat.status == "waitlisted"]
            if waiting:
                flash(_("Vos ateliers ont été enregistrés. Pour un atelier complet, vous êtes sur la liste d'attente : "
                        "vous recevrez un e-mail si une place se libère."), "success")
            else:
                flash(_("Vos ateliers ont été enregistrés."), "success")
            return redirect(url_for("registration.me", slug=slug, token=token), code=303)
    current = {seat.session.code: seat for seat in registration.seats}
    html = render_template(
        "registration/change_workshops.html",
        event=event,
        registration=registration,
        token=token,
        form=form,
        slots=_workshop_slots(event, available),
        chosen=set(form.workshops.data or []),
        current=current,
        positions={seat.session.code: position for seat, position in services.seats_with_positions(registration)
                   if position},
    )
    return html, 422 if form.errors else 200


@bp.get("/e/<slug>/me/<token>/donnees.json")
def download_data(slug: str, token: str):
    event, registration = _attendee(slug, token)
    body = json.dumps(services.export_personal_data(registration), ensure_ascii=False, indent=2, default=_json_default)
    response = Response(body + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="mes-donnees-{event.slug}.json"'
    return response


@bp.route("/e/<slug>/me/<token>/annuler", methods=["GET", "POST"])
def cancel(slug: str, token: str):
    event, registration = _attendee(slug, token)
    form = ConfirmForm()
    if registration.status in ("cancelled", "rejected"):
        return redirect(url_for("registration.me", slug=slug, token=token), code=303)
    if form.validate_on_submit():
        services.cancel(registration)
        flash(_("Votre inscription est annulée. Vos places en atelier ont été libérées."), "success")
        return redirect(url_for("registration.me", slug=slug, token=token), code=303)
    return render_template("registration/cancel.html", event=event, registration=registration, token=token, form=form)


@bp.route("/e/<slug>/me/<token>/effacer", methods=["GET", "POST"])
def erase(slug: str, token: str):
    event, registration = _attendee(slug, token)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.erase(registration)
        return redirect(url_for("registration.erased", slug=slug), code=303)
    return render_template("registration/erase.html", event=event, registration=registration, token=token, form=form)


@bp.get("/e/<slug>/donnees-effacees")
def erased(slug: str):
    event = programme_services.get_event(slug)
    return render_template("registration/erased.html", event=event)


@bp.after_request
def personal_headers(response: Response) -> Response:
    """Private pages: never in a shared cache, never in a Referer header, never in a search engine."""
    if request.endpoint in PERSONAL_ENDPOINTS:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Cache-Control"] = ME_CACHE_CONTROL if request.endpoint == "registration.me" else PERSONAL_CACHE_CONTROL
    elif request.endpoint in NO_STORE_ENDPOINTS:
        response.headers["Cache-Control"] = PERSONAL_CACHE_CONTROL
        response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- Helpers ---


def _public_event(slug: str) -> Event:
    event = programme_services.get_event(slug)
    if not event.is_published:
        raise NotFound(_("Cet événement n'existe pas."))
    return event


def _attendee(slug: str, token: str) -> tuple[Event, Registration]:
    """The registration behind a private link; any failure is the same 404, saying nothing about who exists."""
    try:
        event = programme_services.get_event(slug)
        registration = services.find_by_token(event, token)
    except NotFound:
        raise NotFound(link_not_found_message()) from None
    if registration.anonymised_at is not None:
        raise NotFound(link_not_found_message())
    return event, registration


def link_not_found_message() -> str:
    return _("Ce lien personnel n'est pas valide. Vérifiez qu'il est complet, ou utilisez le dernier e-mail reçu.")


def _closed_for_changes(registration: Registration) -> Response | None:
    """A cancelled or refused registration can no longer be changed: back to the space, saying why."""
    if domain.is_active(registration.status):
        return None
    flash(_("Cette inscription est annulée : elle ne peut plus être modifiée."), "warning")
    return redirect(url_for("registration.me", slug=registration.event.slug, token=registration.access_token), code=303)


def _registration_input(form: RegistrationForm, event: Event) -> services.RegistrationInput:
    return services.RegistrationInput(
        first_name=form.first_name.data,
        last_name=form.last_name.data,
        email=form.email.data,
        organisation=form.organisation.data or "",
        job_title=form.job_title.data or "",
        category=form.category.data,
        territory=form.territory.data or "",
        delegation_id=form.delegation_id,
        accessibility_needs=form.accessibility_needs.data or "",
        workshop_codes=list(form.workshops.data or []),
        consent=bool(form.consent.data),
        language=_language(event),
    )


def _details_input(form: DetailsForm, registration: Registration) -> services.RegistrationInput:
    return services.RegistrationInput(
        first_name=form.first_name.data,
        last_name=form.last_name.data,
        email=registration.email,
        organisation=form.organisation.data or "",
        job_title=form.job_title.data or "",
        category=form.category.data,
        territory=form.territory.data or "",
        delegation_id=form.delegation_id,
        accessibility_needs=form.accessibility_needs.data or "",
        workshop_codes=[seat.session.code for seat in registration.seats],
        consent=True,
        language=registration.language,
    )


def _details_defaults(registration: Registration) -> SimpleNamespace:
    return SimpleNamespace(
        first_name=registration.first_name,
        last_name=registration.last_name,
        organisation=registration.organisation,
        job_title=registration.job_title,
        category=registration.category,
        territory=registration.territory,
        delegation=str(registration.delegation_id) if registration.delegation_id else "",
        accessibility_needs=registration.accessibility_needs,
    )


def _language(event: Event) -> str:
    return i18n.current_language() or event.default_locale


def _attach_problems(form, error: InvalidInput) -> None:
    """Show a service's refusal next to the field it is about (or above the form when it is about no field)."""
    by_field = getattr(error, "by_field", None) or {error.field or "": list(error.problems) or [error.message]}
    for name, messages in by_field.items():
        field = getattr(form, SERVICE_FIELDS.get(name, name), None) if name else None
        messages = [_sentence(message) for message in messages]
        if field is not None and hasattr(field, "errors") and name != "csrf_token":
            field.errors = list(field.errors or []) + messages
        else:
            form.form_errors.extend(messages)


def _check_workshops(form, available) -> None:
    slots = [
        domain.Slot(code=i.session.code, title=i.session.title, starts_at=i.session.starts_at, ends_at=i.session.ends_at)
        for i in available
    ]
    _chosen, problems = domain.check_workshop_choice(form.workshops.data, slots)
    form.workshops.errors = list(form.workshops.errors or []) + [_sentence(services.problem_message(p)) for p in problems]


def _sentence(message: str) -> str:
    """'ce champ est obligatoire.' -> 'Ce champ est obligatoire.' (shown alone, next to its field)."""
    return message[:1].upper() + message[1:]


def _workshop_slots(event: Event, available) -> list[tuple[datetime, datetime, list]]:
    """Sign-up sessions grouped by their time slot (same start), in time order."""
    tz = ZoneInfo(event.timezone)
    ordered = sorted(available, key=lambda item: (item.session.starts_at, item.session.code))
    slots = []
    for start, items in groupby(ordered, key=lambda item: item.session.starts_at):
        items = list(items)
        slots.append((start.astimezone(tz), max(i.session.ends_at for i in items).astimezone(tz), items))
    return slots


def _category_label(code: str) -> str:
    label = CATEGORY_LABELS.get(code)
    return str(label) if label is not None else code


def _badge_svg(registration: Registration):
    """The badge's QR code as inline SVG (None while the badges feature cannot draw it)."""
    from forum_app.badges import services as badge_services

    return badge_services.qr_svg(badge_services.badge_payload(registration))


def _badge_pdf_url(event: Event, token: str) -> str | None:
    endpoint = "badges.attendee_badge_pdf"
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, slug=event.slug, token=token)


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)
