"""The emails sent to attendees, in the registration's language.

Kinds: "received" (approval mode: waiting for an organiser), "confirmed", "waitlisted" and
"workshops_changed" (after a change of workshops), "promoted" (a freed seat is theirs),
"rejected", "cancelled", "link_resent" (someone registered again with their address).

Every message has a plain-text and an HTML body (templates/mail/message.txt and .html, laid out
from one `MailContent`: the wording lives here, once, as French msgids) and, when useful, the
private link `/e/<slug>/me/<token>` as an absolute URL, the .ics of the person's workshops
with a seat and, once the registration is confirmed, the badge PDF.

Absolute URLs: `PUBLIC_BASE_URL` when configured (e.g. "https://forum.example.org"), else the
current request's host, else `SERVER_NAME`; a message composed with none of them links to
http://localhost and a warning is logged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from forum_app import clock, i18n, mail
from forum_app.extensions import db
from forum_app.programme.models import Event, Session
from forum_app.registration.domain import (
    ACTIVE_STATUSES,
    SEAT_CONFIRMED,
    SEAT_WAITLISTED,
)
from forum_app.registration.models import Registration

KINDS = (
    "received",
    "confirmed",
    "waitlisted",
    "workshops_changed",
    "promoted",
    "rejected",
    "cancelled",
    "link_resent",
)
LANGUAGES = ("fr", "en")
FALLBACK_BASE_URL = "http://localhost:5000"
BADGE_KINDS = ("confirmed", "link_resent")
CALENDAR_KINDS = ("received", "confirmed", "waitlisted", "workshops_changed", "promoted", "link_resent")


# --------------------------------------------------------------------------- addresses


def public_base_url() -> str:
    """Scheme and host (and any prefix) the attendee's links start with, without a final slash."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    server = current_app.config.get("SERVER_NAME")
    if server:
        scheme = current_app.config.get("PREFERRED_URL_SCHEME") or "http"
        root = (current_app.config.get("APPLICATION_ROOT") or "/").rstrip("/")
        return f"{scheme}://{server}{root}"
    if not current_app.extensions.get("mail_base_url_warned"):
        current_app.extensions["mail_base_url_warned"] = True
        current_app.logger.warning(
            "No PUBLIC_BASE_URL, request or SERVER_NAME: email links point to %s", FALLBACK_BASE_URL
        )
    return FALLBACK_BASE_URL


def external_url(base_url: str, endpoint: str, fallback_path: str, **values) -> str:
    """An absolute URL for `endpoint` under `base_url`; `fallback_path` while the endpoint is missing."""
    parts = urlsplit(base_url)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http"
    )
    try:
        return adapter.build(endpoint, values, force_external=True)
    except BuildError:
        return base_url.rstrip("/") + fallback_path


def attendee_url(registration: Registration, base_url: str | None = None) -> str:
    """The private link of the person's own space: `/e/<slug>/me/<token>`."""
    slug, token = registration.event.slug, registration.access_token
    return external_url(
        base_url or public_base_url(), "registration.me", f"/e/{slug}/me/{token}", slug=slug, token=token
    )


def language_of(registration: Registration) -> str:
    if registration.language in LANGUAGES:
        return registration.language
    event_locale = registration.event.default_locale
    return event_locale if event_locale in LANGUAGES else "fr"


# --------------------------------------------------------------------------- content


@dataclass
class SeatLine:
    code: str
    title: str
    when: str
    room: str
    state: str
    waiting: bool


@dataclass
class MailContent:
    kind: str
    lang: str
    subject: str
    greeting: str
    paragraphs: list[str]
    event_title: str
    event_when: str
    event_venue: str
    action_label: str = ""
    action_url: str = ""
    action_note: str = ""
    seats_heading: str = ""
    seats: list[SeatLine] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)


def _event_when(event: Event, lang: str) -> str:
    if event.start_date == event.end_date:
        return i18n.format_day(event.start_date, with_year=True, locale=lang)
    return _(
        "du %(start)s au %(end)s",
        start=i18n.format_day(event.start_date, locale=lang),
        end=i18n.format_day(event.end_date, with_year=True, locale=lang),
    )


def _status_label(status: str) -> str:
    return {
        "pending": _("en attente de validation par les organisateurs"),
        "confirmed": _("confirmée"),
        "cancelled": _("annulée"),
        "rejected": _("refusée"),
    }.get(status, status)


def _seat_lines(registration: Registration, lang: str) -> list[SeatLine]:
    from forum_app.registration import services

    if registration.status not in ACTIVE_STATUSES:
        return []
    tz = ZoneInfo(registration.event.timezone or "Europe/Paris")
    lines = []
    for seat, position in services.seats_with_positions(registration):
        session = seat.session
        start, end = session.starts_at.astimezone(tz), session.ends_at.astimezone(tz)
        when = _(
            "%(day)s, %(start)s – %(end)s",
            day=i18n.format_day(start, locale=lang),
            start=i18n.format_clock(start, locale=lang),
            end=i18n.format_clock(end, locale=lang),
        )
        if seat.status == SEAT_WAITLISTED:
            state = _("liste d'attente, position %(position)s", position=position or "?")
        elif registration.status == "pending":
            state = _("place réservée")
        else:
            state = _("place confirmée")
        lines.append(
            SeatLine(
                code=session.code,
                title=session.title,
                when=when,
                room=session.room.name if session.room else "",
                state=state,
                waiting=seat.status == SEAT_WAITLISTED,
            )
        )
    return lines


def build_content(
    kind: str,
    registration: Registration,
    *,
    session: Session | None = None,
    base_url: str | None = None,
    with_badge: bool = False,
    with_calendar: bool = False,
) -> MailContent:
    """What the message says (call inside `force_locale(language_of(registration))`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    event = registration.event
    lang = language_of(registration)
    title = event.title
    seats = _seat_lines(registration, lang)
    waiting = any(line.waiting for line in seats)
    waiting_note = _(
        "Pour les ateliers complets, vous êtes sur la liste d'attente : "
        "vous recevrez un e-mail si une place se libère."
    )
    paragraphs: list[str]
    if kind == "received":
        subject = _("Demande d'inscription reçue — %(event)s", event=title)
        paragraphs = [
            _("Nous avons bien reçu votre demande d'inscription à %(event)s.", event=title),
            _("Les organisateurs doivent la valider : vous recevrez un e-mail dès que ce sera fait."),
        ]
    elif kind == "confirmed":
        subject = _("Inscription confirmée — %(event)s", event=title)
        paragraphs = [_("Votre inscription à %(event)s est confirmée.", event=title)]
    elif kind == "waitlisted":
        subject = _("Vos ateliers : liste d'attente — %(event)s", event=title)
        paragraphs = [_("Vos choix d'ateliers sont enregistrés.")]
    elif kind == "workshops_changed":
        subject = _("Vos ateliers — %(event)s", event=title)
        paragraphs = [_("Vos choix d'ateliers sont enregistrés.")]
    elif kind == "promoted":
        workshop = _("%(code)s «\u00a0%(title)s\u00a0»", code=session.code, title=session.title) if session else ""
        subject = _("Une place s'est libérée pour vous — %(event)s", event=title)
        paragraphs = [
            _(
                "Bonne nouvelle : une place s'est libérée dans l'atelier %(workshop)s. "
                "Elle est à vous, vous n'avez rien à faire.",
                workshop=workshop,
            ),
            _("Si vous ne pouvez plus y participer, libérez-la depuis votre espace personnel pour la personne suivante."),
        ]
    elif kind == "rejected":
        subject = _("Votre demande d'inscription — %(event)s", event=title)
        paragraphs = [
            _("Nous sommes désolés : votre demande d'inscription à %(event)s n'a pas pu être acceptée.", event=title),
            _("Pour toute question, contactez les organisateurs de l'événement."),
        ]
    elif kind == "cancelled":
        subject = _("Inscription annulée — %(event)s", event=title)
        paragraphs = [
            _("Votre inscription à %(event)s est annulée, et votre badge n'est plus valable.", event=title),
            _("S'il s'agit d'une erreur, contactez les organisateurs de l'événement."),
        ]
    else:  # link_resent
        subject = _("Votre lien personnel — %(event)s", event=title)
        paragraphs = [
            _(
                "Une inscription à %(event)s a été demandée avec cette adresse, qui est déjà inscrite. "
                "Voici votre lien personnel.",
                event=title,
            ),
            _("État de votre inscription : %(status)s.", status=_status_label(registration.status)),
            _("Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien n'a été modifié."),
        ]
    if waiting and kind in ("received", "confirmed", "waitlisted", "link_resent", "workshops_changed"):
        paragraphs.append(waiting_note)
    if with_badge:
        paragraphs.append(
            _("Votre badge est joint à ce message : imprimez-le, ou présentez-le sur votre téléphone à l'accueil.")
        )
    if with_calendar:
        paragraphs.append(_("Le fichier d'agenda joint (.ics) ajoute vos ateliers à votre calendrier."))
    content = MailContent(
        kind=kind,
        lang=lang,
        subject=subject,
        greeting=_("Bonjour %(name)s,", name=registration.first_name or registration.full_name),
        paragraphs=paragraphs,
        event_title=title,
        event_when=_event_when(event, lang),
        event_venue=event.venue or "",
        action_label=_("Votre espace personnel"),
        action_url=attendee_url(registration, base_url),
        action_note=_(
            "Ce lien est personnel : il donne accès à votre inscription (badge, ateliers, modification, "
            "annulation). Ne le transmettez pas."
        ),
        seats_heading=_("Vos ateliers") if seats else "",
        seats=seats,
        footer=[
            _("Vous recevez ce message à la suite d'une inscription à %(event)s.", event=title),
            _("Vos données personnelles : consultez-les, téléchargez-les ou effacez-les depuis votre espace personnel."),
        ],
    )
    return content


# --------------------------------------------------------------------------- attachments


def calendar_ics(registration: Registration, base_url: str) -> bytes | None:
    """The .ics of the person's workshops with a seat (None when they have none)."""
    from forum_app.programme import imports, interop
    from forum_app.programme.labels import ROLE_LABELS

    if registration.status not in ACTIVE_STATUSES:
        return None
    codes = sorted(seat.session.code for seat in registration.seats if seat.status == SEAT_CONFIRMED)
    if not codes:
        return None
    event = registration.event
    data = imports.schedule_for_export(event, site_url=base_url + "/", codes=codes)
    return interop.build_calendar(
        data,
        uid_host=current_app.config.get("SERVER_NAME") or urlsplit(base_url).hostname or "localhost",
        stamp=event.updated_at or clock.now(),
        calendar_name=f"{event.title} — {_('Mes ateliers')}",
        role_labels={role: str(label) for role, label in ROLE_LABELS.items()},
    )


def badge_pdf(registration: Registration) -> bytes | None:
    """The badge PDF from the badges feature, once the registration is confirmed (None otherwise,
    or when the badge cannot be drawn: the message then goes without it)."""
    if registration.status != "confirmed":
        return None
    # Imported here: badges build on registrations, not the reverse.
    from forum_app.badges import services as badge_services

    try:
        return badge_services.badge_pdf(registration)
    except Exception:  # a badge problem must not stop the confirmation
        current_app.logger.exception("Badge PDF not attached for registration %s", registration.id)
        return None


# --------------------------------------------------------------------------- messages


def compose(
    kind: str, registration: Registration, *, session: Session | None = None, base_url: str | None = None
) -> EmailMessage:
    """The complete message (text, HTML, attachments) in the registration's language."""
    base = (base_url or public_base_url()).rstrip("/")
    lang = language_of(registration)
    event = registration.event
    with force_locale(lang):
        ics = calendar_ics(registration, base) if kind in CALENDAR_KINDS else None
        badge = badge_pdf(registration) if kind in BADGE_KINDS else None
        content = build_content(
            kind, registration, session=session, base_url=base, with_badge=badge is not None, with_calendar=ics is not None
        )
        text = render_template("mail/message.txt", c=content)
        html = render_template("mail/message.html", c=content)
        ics_name = event.slug + "-" + _("mes-ateliers") + ".ics"  # outside an f-string: pybabel extracts it

    message = EmailMessage()
    message["Subject"] = content.subject
    message["From"] = mail.default_sender()
    message["To"] = recipient(registration.full_name, registration.email)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Forum-Message"] = kind
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if ics is not None:
        message.add_attachment(ics, maintype="text", subtype="calendar", filename=ics_name)
    if badge is not None:
        message.add_attachment(badge, maintype="application", subtype="pdf", filename=f"badge-{event.slug}.pdf")
    message["Content-Language"] = lang  # after the body: set_content and attachments move Content-* headers
    return message


def recipient(name: str, address: str) -> Address | str:
    """The To header value. Names are validated single-line text; an internationalised local
    part (RFC 6531) is written as a quoted display name and the raw address."""
    if address.partition("@")[0].isascii():
        return Address(display_name=name, addr_spec=address)
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>' if name else address


def _compose_and_send(kind: str, registration_id: int, session_id: int | None, base_url: str) -> None:
    from forum_app.registration import services

    registration = services.load_for_mail(registration_id)
    if registration is None or registration.anonymised_at is not None:
        return
    session = db.session.get(Session, session_id) if session_id is not None else None
    mail.send(compose(kind, registration, session=session, base_url=base_url))


def send(kind: str, registration: Registration, *, session: Session | None = None) -> None:
    """Compose and send one message (on the background mail thread when MAIL_ASYNC is on).
    Failures are logged, never raised. Nothing goes to an erased person."""
    if registration.anonymised_at is not None:
        return
    send_later(kind, registration.id, session_id=session.id if session else None)


def send_later(kind: str, registration_id: int, *, session_id: int | None = None) -> None:
    """`send` by ids: what services call right after their commit (nothing is reloaded here)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    mail.defer(_compose_and_send, kind, registration_id, session_id, public_base_url())
