"""The report's emails, in French: the consent request to a person quoted, the organisers' notice
of their answer, and the rapporteurs' invitation to review their sections.

Everything goes out after the caller's commit through `forum_app.mail.defer` (a background thread
in production, at once in tests), with ids and plain values only: the job loads what it needs.
Bodies are templates/mail/report_message.{txt,html}, laid out from one `ReportMail`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from forum_app import i18n, mail
from forum_app.auth.models import EventRole, User
from forum_app.extensions import db
from forum_app.notes.models import NoteItem
from forum_app.programme.models import Event, Session
from forum_app.registration.notifications import (
    external_url,
    public_base_url,
    recipient,
)
from forum_app.report import domain

MAIL_LANGUAGE = "fr"


@dataclass
class Line:
    title: str
    detail: str = ""


@dataclass
class ReportMail:
    """The fields templates/mail/report_message.{txt,html} lay out."""

    lang: str
    subject: str
    greeting: str
    paragraphs: list[str]
    event_title: str
    event_when: str
    event_venue: str
    quote_heading: str = ""
    quote_text: str = ""
    quote_attribution: str = ""
    after_quote: list[str] = field(default_factory=list)
    lines_heading: str = ""
    lines: list[Line] = field(default_factory=list)
    action_label: str = ""
    action_url: str = ""
    action_note: str = ""
    footer: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- addresses and words


def quote_url(slug: str, secret: str, base_url: str | None = None) -> str:
    """The person's private link: /e/<slug>/report/quote/<secret>."""
    return external_url(
        base_url or public_base_url(), "report_quotes.quote", f"/e/{slug}/report/quote/{secret}", slug=slug, secret=secret
    )


def review_url(slug: str, base_url: str | None = None) -> str:
    return external_url(base_url or public_base_url(), "report_quotes.review", f"/e/{slug}/report/review", slug=slug)


def admin_quotes_url(slug: str, base_url: str | None = None) -> str:
    return external_url(
        base_url or public_base_url(), "report_quotes.admin_quotes", f"/e/{slug}/admin/report/quotes", slug=slug
    )


def _tz(event: Event) -> ZoneInfo:
    return ZoneInfo(event.timezone or "Europe/Paris")


def event_when(event: Event) -> str:
    if event.start_date == event.end_date:
        return i18n.format_day(event.start_date, with_year=True, locale=MAIL_LANGUAGE)
    return _(
        "du %(start)s au %(end)s",
        start=i18n.format_day(event.start_date, locale=MAIL_LANGUAGE),
        end=i18n.format_day(event.end_date, with_year=True, locale=MAIL_LANGUAGE),
    )


def session_when(session: Session, event: Event) -> str:
    """"jeudi 6 juin 2019, 11 h 30 – 13 h 00"."""
    tz = _tz(event)
    start, end = session.starts_at.astimezone(tz), session.ends_at.astimezone(tz)
    return _(
        "%(day)s, %(start)s – %(end)s",
        day=i18n.format_day(start, with_year=True, locale=MAIL_LANGUAGE),
        start=i18n.format_clock(start, MAIL_LANGUAGE),
        end=i18n.format_clock(end, MAIL_LANGUAGE),
    )


def deadline(moment: datetime, event: Event) -> str:
    """"jeudi 4 juillet 2019 à 12 h 00" in the event's time zone."""
    local = moment.astimezone(_tz(event))
    return _(
        "%(day)s à %(time)s",
        day=i18n.format_day(local, with_year=True, locale=MAIL_LANGUAGE),
        time=i18n.format_clock(local, MAIL_LANGUAGE),
    )


def session_label(session: Session) -> str:
    return _("%(code)s «\u00a0%(title)s\u00a0»", code=session.code, title=session.title)


def _render(content: ReportMail, kind: str, to, reply_to: str | None = None) -> EmailMessage:
    text = render_template("mail/report_message.txt", c=content)
    html = render_template("mail/report_message.html", c=content)
    message = EmailMessage()
    message["Subject"] = content.subject
    message["From"] = mail.default_sender()
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Auto-Submitted"] = "auto-generated"
    message["X-Forum-Message"] = kind
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = content.lang
    return message


def _context(approval_id: int):
    from forum_app.report import approvals
    from forum_app.report.models import QuoteApproval

    approval = db.session.get(QuoteApproval, approval_id)
    if approval is None:
        return None
    event = approvals.event_of(approval)
    note = db.session.get(NoteItem, approval.note_item_id)
    if event is None or note is None:
        return None
    return approval, event, note


# --------------------------------------------------------------------------- asking the person quoted


def quote_approval_requested(approval, secret: str, *, asked_by=None) -> None:
    """Email the person quoted their private link (after the caller's commit)."""
    mail.defer(_send_request, approval.id, secret, getattr(asked_by, "id", None), public_base_url())


def compose_request(approval, event: Event, note: NoteItem, secret: str, base_url: str, asked_by: User | None) -> EmailMessage:
    session = note.session
    name = note.attribution_name or ""
    with force_locale(MAIL_LANGUAGE):
        asker = (asked_by.name or asked_by.email) if asked_by is not None else ""
        subject = _("Votre citation dans le compte rendu de %(event)s : votre accord", event=event.title)
        if asker:
            opening = _(
                "%(asker)s, de l'équipe d'organisation de %(event)s, prépare le compte rendu de l'événement. "
                "Vos propos y sont cités, pour la session %(session)s (%(when)s).",
                asker=asker, event=event.title, session=session_label(session), when=session_when(session, event),
            )
        else:
            opening = _(
                "L'équipe d'organisation de %(event)s prépare le compte rendu de l'événement. "
                "Vos propos y sont cités, pour la session %(session)s (%(when)s).",
                event=event.title, session=session_label(session), when=session_when(session, event),
            )
        until = deadline(approval.expires_at, event)
        content = ReportMail(
            lang=MAIL_LANGUAGE,
            subject=subject,
            greeting=_("Bonjour %(name)s,", name=name),
            paragraphs=[
                opening,
                _("Nous ne publierons cette citation avec votre nom qu'avec votre accord."),
            ],
            quote_heading=_("La citation telle qu'elle paraîtra :"),
            quote_text=approval.text_sent,
            quote_attribution=approval.attribution_sent,
            after_quote=[
                _("Sur la page du lien ci-dessous, trois réponses possibles :"),
                _("« J'approuve » : la citation est publiée telle quelle, avec votre nom."),
                _(
                    "« Je propose une autre formulation » : vous corrigez les mots, votre fonction ou votre "
                    "organisation ; c'est votre version qui est publiée."
                ),
                _("« Je refuse » : la citation n'est pas publiée sous votre nom."),
                _(
                    "Merci de répondre avant le %(deadline)s. Sans réponse de votre part, la citation ne sera "
                    "pas publiée avec votre nom.",
                    deadline=until,
                ),
            ],
            event_title=event.title,
            event_when=event_when(event),
            event_venue=event.venue or "",
            action_label=_("Répondre"),
            action_url=quote_url(event.slug, secret, base_url),
            action_note=_(
                "Ce lien est personnel : ne le transférez pas. Il reste valable jusqu'au %(deadline)s : vous "
                "pouvez changer votre réponse d'ici là. Une question ? Répondez simplement à ce message.",
                deadline=until,
            ),
            footer=[
                _("Vous recevez ce message car vous êtes cité·e dans le compte rendu de %(event)s.", event=event.title),
            ],
        )
        reply_to = asked_by.email if asked_by is not None and asked_by.email else None
        return _render(content, "report_quote_request", recipient(name, approval.email), reply_to)


def _send_request(approval_id: int, secret: str, asked_by_id: int | None, base_url: str) -> None:
    found = _context(approval_id)
    if found is None:
        return
    approval, event, note = found
    asked_by = db.session.get(User, asked_by_id) if asked_by_id else None
    mail.send(compose_request(approval, event, note, secret, base_url, asked_by))


# --------------------------------------------------------------------------- telling the organisers


def organisers(event: Event) -> list[User]:
    return list(
        db.session.scalars(
            db.select(User)
            .join(EventRole, EventRole.user_id == User.id)
            .where(EventRole.event_id == event.id, EventRole.role == "organiser", User.active.is_(True))
            .order_by(User.id)
        )
    )


def quote_answered(approval) -> None:
    """Tell the event's organisers what the person quoted answered (after the caller's commit)."""
    mail.defer(_send_answered, approval.id, public_base_url())


def compose_answered(approval, event: Event, note: NoteItem, organiser: User, base_url: str) -> EmailMessage:
    name = note.attribution_name or ""
    session = note.session
    with force_locale(MAIL_LANGUAGE):
        if approval.state == domain.APPROVED:
            subject = _("Citation approuvée par %(name)s", name=name)
            said = _("%(name)s approuve sa citation (session %(session)s).", name=name, session=session_label(session))
        elif approval.state == domain.AMENDED:
            subject = _("Citation modifiée par %(name)s", name=name)
            said = _(
                "%(name)s propose une autre formulation de sa citation (session %(session)s) : c'est elle qui sera publiée.",
                name=name, session=session_label(session),
            )
        else:
            subject = _("Citation refusée par %(name)s", name=name)
            said = _(
                "%(name)s refuse la publication de sa citation sous son nom (session %(session)s).",
                name=name, session=session_label(session),
            )
        amended = approval.state == domain.AMENDED
        line = approval.attribution_sent
        if amended:
            line = ", ".join(
                part for part in (
                    name,
                    approval.final_job_title or note.attribution_job_title,
                    approval.final_organisation or note.attribution_organisation,
                ) if part
            )
        after = [_("Son commentaire : %(comment)s", comment=approval.comment)] if approval.comment else []
        content = ReportMail(
            lang=MAIL_LANGUAGE,
            subject=f"{subject} — {event.title}",
            greeting=_("Bonjour %(name)s,", name=organiser.name or organiser.email),
            paragraphs=[said],
            quote_heading=_("Formulation proposée :") if amended else _("La citation :"),
            quote_text=approval.final_text if amended else approval.text_sent,
            quote_attribution=line,
            after_quote=after,
            event_title=event.title,
            event_when=event_when(event),
            event_venue=event.venue or "",
            action_label=_("Voir les citations du rapport"),
            action_url=admin_quotes_url(event.slug, base_url),
            footer=[_("Vous recevez ce message car vous organisez %(event)s.", event=event.title)],
        )
        return _render(content, "report_quote_answered", recipient(organiser.name, organiser.email))


def _send_answered(approval_id: int, base_url: str) -> None:
    found = _context(approval_id)
    if found is None:
        return
    approval, event, note = found
    for organiser in organisers(event):
        mail.send(compose_answered(approval, event, note, organiser, base_url))


# --------------------------------------------------------------------------- the rapporteurs' review


def review_requested(event: Event, states) -> int:
    """One message per rapporteur listing their sections to validate, with the review link.
    Sections without a rapporteur: nobody is written to (organisers validate them). Returns the
    number of messages queued."""
    by_user: dict[int, list[int]] = {}
    for state in states:
        for user_id in state.rapporteur_ids:
            sessions = by_user.setdefault(user_id, [])
            if state.session_id not in sessions:
                sessions.append(state.session_id)
    base_url = public_base_url()
    for user_id, session_ids in by_user.items():
        mail.defer(_send_review, event.id, user_id, session_ids, base_url)
    return len(by_user)


def compose_review(event: Event, user: User, sessions: list[Session], base_url: str) -> EmailMessage:
    with force_locale(MAIL_LANGUAGE):
        content = ReportMail(
            lang=MAIL_LANGUAGE,
            subject=_("Le compte rendu de %(event)s est en relecture", event=event.title),
            greeting=_("Bonjour %(name)s,", name=user.name or user.email),
            paragraphs=[
                _(
                    "Le compte rendu de %(event)s est prêt à être relu. Avant sa publication, merci de relire "
                    "la section de chaque session dont vous avez pris les notes, puis de la valider.",
                    event=event.title,
                ),
                _(
                    "Une correction à faire ? Modifiez la note depuis la page de prise de notes de la session, "
                    "ou signalez-la dans le commentaire de validation."
                ),
            ],
            lines_heading=_("Vos sections à relire"),
            lines=[
                Line(f"{session.code} — {session.title}", session_when(session, event)) for session in sessions
            ],
            event_title=event.title,
            event_when=event_when(event),
            event_venue=event.venue or "",
            action_label=_("Relire le rapport"),
            action_url=review_url(event.slug, base_url),
            action_note=_("Connectez-vous avec votre compte de rapporteur·e pour valider vos sections."),
            footer=[_("Vous recevez ce message car vous êtes rapporteur·e de %(event)s.", event=event.title)],
        )
        return _render(content, "report_review", recipient(user.name, user.email))


def _send_review(event_id: int, user_id: int, session_ids: list[int], base_url: str) -> None:
    event, user = db.session.get(Event, event_id), db.session.get(User, user_id)
    if event is None or user is None or not user.active:
        return
    sessions = sorted(
        (s for s in (db.session.get(Session, sid) for sid in session_ids) if s is not None and s.event_id == event.id),
        key=lambda s: (s.starts_at, s.code),
    )
    if sessions:
        mail.send(compose_review(event, user, sessions, base_url))
