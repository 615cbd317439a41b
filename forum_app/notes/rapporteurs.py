"""Rapporteur accounts: the invitation link that lets a new rapporteur choose a password, the
rapporteur role at an event, and the sessions each rapporteur reports on.

- `invite` makes the account (no usable password: `password_hash` "") or finds the existing staff
  account, gives it the "rapporteur" role at the event and a fresh invitation; `resend` issues a new
  link. Each new link makes the account's earlier unused links unusable. Only the token's SHA-256 is
  stored; the token itself travels in the email and, once, on the organiser's confirmation page.
- `accept_invitation` checks the token (unknown, used and expired links are refused alike), sets the
  password and marks the link used, atomically: a link works once.
- `assign` / `unassign` / `remove_role`: what a rapporteur may write (notes.services.can_write).

The messages go out after the commit (forum_app.mail.defer), in French.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from forum_app import clock, i18n, mail
from forum_app.audit import actions as audit
from forum_app.auth.models import EventRole, StaffInvitation, User
from forum_app.auth.services import MIN_PASSWORD_LENGTH, find_user, normalise_email
from forum_app.db import begin_write
from forum_app.errors import Conflict, DomainError, InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.notes import services as notes_services
from forum_app.notes.models import RapporteurAssignment
from forum_app.programme.models import Event, Session

ROLE = "rapporteur"
INVITATION_VALIDITY = timedelta(days=7)
NOT_REPORTED_KINDS = ("break", "lunch", "reception")  # nothing is said there that a report would keep
MAX_PASSWORD_LENGTH = 1000
MAIL_LANGUAGE = "fr"
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")

# Invitation states, as the organisers' list shows them.
ACTIVE, SENT, EXPIRED, NOT_INVITED = "active", "sent", "expired", "not_invited"


# --------------------------------------------------------------------------- pure rules


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sort_key(text: str) -> str:
    """Alphabetical order as a French reader expects it: "Émile" between "Anne" and "Sam"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def invitation_state(
    has_password: bool, expires_at: datetime | None, used_at: datetime | None, now: datetime
) -> str:
    """ACTIVE once the person can log in; otherwise what became of their latest link (None: no link)."""
    if has_password or used_at is not None:
        return ACTIVE
    if expires_at is None:
        return NOT_INVITED
    return SENT if expires_at > now else EXPIRED


def link_may_be_shown(
    user_has_password: bool, event_ids_of_roles: set[int], event_id: int, *, is_admin: bool = False
) -> bool:
    """The organiser may see (and hand over) the link only of an account that is theirs alone: no
    password yet, no role at another event, not a site administrator. Anyone else's link would let the
    organiser choose the password of an account that is not theirs: it goes to the person's mailbox only."""
    return not user_has_password and not is_admin and event_ids_of_roles <= {event_id}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Invitation:
    """What `invite` and `resend` did: the link (shown to the organiser only when `link_shown`)."""

    user: User
    url: str
    expires_at: datetime
    link_shown: bool
    created: bool  # a new account (False: an existing staff account got the role or a new link)


@dataclass(frozen=True)
class SessionLine:
    """A session as the rapporteurs' screens show it: times in the event's time zone."""

    id: int
    code: str
    title: str
    starts: datetime
    ends: datetime
    room: str


@dataclass
class RapporteurRow:
    user: User
    state: str  # ACTIVE, SENT, EXPIRED, NOT_INVITED
    invited_at: datetime | None  # in the event's time zone
    expires_at: datetime | None
    sessions: list[SessionLine] = field(default_factory=list)


# --------------------------------------------------------------------------- reading


def _line(session: Session, tz: ZoneInfo) -> SessionLine:
    return SessionLine(
        id=session.id,
        code=session.code,
        title=session.title,
        starts=session.starts_at.astimezone(tz),
        ends=session.ends_at.astimezone(tz),
        room=session.room.name if session.room else "",
    )


def _tz(event: Event) -> ZoneInfo:
    return ZoneInfo(event.timezone or "Europe/Paris")


def assignable_sessions(event: Event) -> list[SessionLine]:
    """The sessions a rapporteur may be given (all but breaks, lunch and the welcome), in programme order."""
    tz = _tz(event)
    sessions = db.session.scalars(
        db.select(Session)
        .where(Session.event_id == event.id, Session.kind.not_in(NOT_REPORTED_KINDS))
        .order_by(Session.starts_at, Session.code)
    )
    return [_line(session, tz) for session in sessions]


def rapporteurs(event: Event) -> list[RapporteurRow]:
    """The event's rapporteurs (by name), with their invitation state and sessions."""
    tz = _tz(event)
    users = list(
        db.session.scalars(
            db.select(User)
            .join(EventRole, EventRole.user_id == User.id)
            .where(EventRole.event_id == event.id, EventRole.role == ROLE)
        )
    )
    users.sort(key=lambda user: (sort_key(user.name or user.email), user.email))
    ids = [user.id for user in users]
    sessions: dict[int, list[SessionLine]] = {user_id: [] for user_id in ids}
    latest: dict[int, StaffInvitation] = {}
    if ids:
        assigned = db.session.execute(
            db.select(RapporteurAssignment.user_id, Session)
            .join(Session, Session.id == RapporteurAssignment.session_id)
            .where(Session.event_id == event.id, RapporteurAssignment.user_id.in_(ids))
            .order_by(Session.starts_at, Session.code)
        )
        for user_id, session in assigned:
            sessions[user_id].append(_line(session, tz))
        for invitation in db.session.scalars(
            db.select(StaffInvitation).where(StaffInvitation.user_id.in_(ids)).order_by(StaffInvitation.id)
        ):
            latest[invitation.user_id] = invitation
    now = clock.now()
    rows = []
    for user in users:
        invitation = latest.get(user.id)
        rows.append(
            RapporteurRow(
                user=user,
                state=invitation_state(
                    bool(user.password_hash),
                    invitation.expires_at if invitation else None,
                    invitation.used_at if invitation else None,
                    now,
                ),
                invited_at=invitation.created_at.astimezone(tz) if invitation else None,
                expires_at=invitation.expires_at.astimezone(tz) if invitation else None,
                sessions=sessions[user.id],
            )
        )
    return rows


def get_rapporteur(event: Event, user_id) -> User:
    """A rapporteur of this event, or NotFound."""
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.role_at(event.id) != ROLE:
        raise NotFound(_("Ce rapporteur ou cette rapporteuse n'existe pas pour cet événement."))
    return user


def session_rapporteurs(session: Session) -> list[User]:
    """Who reports on this session (the admin session page), by name."""
    return sorted(
        db.session.scalars(
            db.select(User)
            .join(RapporteurAssignment, RapporteurAssignment.user_id == User.id)
            .join(EventRole, (EventRole.user_id == User.id) & (EventRole.event_id == session.event_id))
            .where(RapporteurAssignment.session_id == session.id, EventRole.role == ROLE)
        ),
        key=lambda user: (sort_key(user.name or user.email), user.email),
    )


def my_sessions(user: User, events: list[Event]) -> dict[int, list[SessionLine]]:
    """"Mes sessions": per event id, the sessions this rapporteur is assigned to, in programme order."""
    return {
        event.id: [_line(session, _tz(event)) for session in notes_services.assigned_sessions(user, event)]
        for event in events
    }


def valid_invitation(token) -> StaffInvitation | None:
    """The invitation this token opens, while it can still be used (else None, whatever the reason)."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        return None
    invitation = db.session.scalar(db.select(StaffInvitation).filter_by(token_hash=token_hash(token)))
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= clock.now():
        return None
    if not invitation.user.active:
        return None
    return invitation


# --------------------------------------------------------------------------- invitations


def _expired_link_message() -> str:
    return _("Ce lien n'est plus valable : demandez-en un nouveau à l'équipe d'organisation.")


def _issue(user: User, event: Event, by: User | None, now: datetime) -> tuple[StaffInvitation, str]:
    """A new link for `user`; their earlier unused links stop working now."""
    for old in db.session.scalars(
        db.select(StaffInvitation).where(
            StaffInvitation.user_id == user.id, StaffInvitation.used_at.is_(None), StaffInvitation.expires_at > now
        )
    ):
        old.expires_at = now
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation(
        user=user,
        event_id=event.id,
        token_hash=token_hash(token),
        created_by_id=by.id if by is not None and getattr(by, "id", None) else None,
        created_at=now,
        expires_at=now + INVITATION_VALIDITY,
    )
    db.session.add(invitation)
    return invitation, token


def invitation_url(token: str, base_url: str | None = None) -> str:
    from forum_app.registration.notifications import external_url, public_base_url

    return external_url(base_url or public_base_url(), "auth.invitation", f"/invitation/{token}", token=token)


def _result(user: User, event: Event, invitation: StaffInvitation, token: str, created: bool) -> Invitation:
    """After the commit: send the message, describe what was done."""
    from forum_app.registration.notifications import public_base_url

    base_url = public_base_url()
    mail.defer(_compose_and_send, user.id, event.id, token, base_url)
    return Invitation(
        user=user,
        url=invitation_url(token, base_url),
        expires_at=invitation.expires_at.astimezone(_tz(event)),
        link_shown=link_may_be_shown(
            bool(user.password_hash), {role.event_id for role in user.roles}, event.id, is_admin=user.is_admin
        ),
        created=created,
    )


def invite(event: Event, email: str, name: str, *, by: User | None = None) -> Invitation:
    """Give `email` the rapporteur role at `event` (making the account if needed) and a new link."""
    email = normalise_email(email or "")
    name = " ".join((name or "").split())  # one line: it goes into the message's To header
    if "@" not in email or len(email) > 320 or any(char.isspace() or ord(char) < 32 for char in email):
        raise InvalidInput(_("Adresse e-mail invalide."), field="email")
    if not name or len(name) > 200:
        raise InvalidInput(_("Indiquez le nom de la personne (200 caractères au plus)."), field="name")
    begin_write(db.session)
    try:
        known = find_user(email)
        before_role = known.role_at(event.id) if known is not None else None
        invitation, token, user, created = _invite(event, email, name, by)
    except DomainError:
        db.session.rollback()
        raise
    try:
        if by is not None:  # the staff journal (the new account's id comes with the flush)
            db.session.flush()
            audit.rapporteur_invited(event, user, by, created=created, before_role=before_role)
        db.session.commit()
    except IntegrityError:  # the same address invited twice at the same instant (PostgreSQL)
        db.session.rollback()
        raise Conflict(_("Cette personne vient d'être invitée par quelqu'un d'autre : rechargez la page."))
    return _result(user, event, invitation, token, created)


def _invite(event: Event, email: str, name: str, by: User | None) -> tuple[StaffInvitation, str, User, bool]:
    now = clock.now()
    user = find_user(email)
    created = user is None
    if user is None:
        user = User(email=email, name=name, password_hash="")
        db.session.add(user)
    else:
        role = user.role_at(event.id)
        if role == "organiser":
            raise InvalidInput(
                _(
                    "%(email)s fait déjà partie de l'équipe d'organisation de cet événement : "
                    "ce compte peut déjà prendre des notes dans toutes les sessions.",
                    email=email,
                ),
                field="email",
            )
        if role == "volunteer":
            raise InvalidInput(
                _(
                    "%(email)s est déjà bénévole d'accueil pour cet événement, et un compte n'a qu'un rôle "
                    "par événement : utilisez une autre adresse.",
                    email=email,
                ),
                field="email",
            )
        if not user.active:
            raise InvalidInput(_("Le compte %(email)s est désactivé.", email=email), field="email")
        if not user.name:
            user.name = name
    if user.role_at(event.id) is None:
        user.roles.append(EventRole(event_id=event.id, role=ROLE))
    invitation, token = _issue(user, event, by, now)
    return invitation, token, user, created


def resend(event: Event, user_id: int, *, by: User | None = None) -> Invitation:
    """A new link for one of the event's rapporteurs; the previous one stops working."""
    begin_write(db.session)
    try:
        user = get_rapporteur(event, user_id)
    except DomainError:
        db.session.rollback()
        raise
    invitation, token = _issue(user, event, by, clock.now())
    if by is not None:
        audit.rapporteur_invited(event, user, by, created=False, before_role=ROLE, resent=True)
    db.session.commit()
    return _result(user, event, invitation, token, created=False)


def accept_invitation(token: str, password: str) -> User:
    """Set the password of the invited account and use up the link. The caller logs the person in."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("Le mot de passe doit compter au moins %(num)d caractères.", num=MIN_PASSWORD_LENGTH), field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(_("%(max)d caractères au maximum.", max=MAX_PASSWORD_LENGTH), field="password")
    invitation = valid_invitation(token)
    if invitation is None:
        raise NotFound(_expired_link_message())
    now = clock.now()
    used = db.session.execute(  # one winner when the form is posted twice at once
        db.update(StaffInvitation)
        .where(StaffInvitation.id == invitation.id, StaffInvitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise NotFound(_expired_link_message())
    user = invitation.user
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.commit()
    return user


# --------------------------------------------------------------------------- sessions and role


def _reported_session(event: Event, session_id) -> Session:
    session = db.session.get(Session, session_id) if isinstance(session_id, int) else None
    if session is None or session.event_id != event.id:
        raise NotFound(_("Cette session n'existe pas."))
    return session


def assign(event: Event, user_id: int, session_id: int, *, actor=None) -> tuple[Session, bool]:
    """Let the rapporteur write the notes of this session. (session, False) when it already was theirs.
    `actor`: the organiser (recorded in the staff journal)."""
    user = get_rapporteur(event, user_id)
    session = _reported_session(event, session_id)
    if session.kind in NOT_REPORTED_KINDS:
        raise InvalidInput(
            _("La session %(code)s n'est pas un temps de débat : il n'y a pas de notes à y prendre.", code=session.code),
            field="session_id",
        )
    exists = db.session.scalar(db.select(RapporteurAssignment.id).filter_by(user_id=user.id, session_id=session.id))
    if exists is not None:
        return session, False
    db.session.add(RapporteurAssignment(user_id=user.id, session_id=session.id))
    if actor is not None:
        audit.session_assignment_changed(event, user, session, actor, assigned=True)
    try:
        db.session.commit()
    except IntegrityError:  # assigned by someone else at the same instant: the same result
        db.session.rollback()
        return session, False
    return session, True


def unassign(event: Event, user_id: int, session_id: int, *, actor=None) -> tuple[Session, bool]:
    """The rapporteur no longer writes this session's notes (what they wrote stays). False: it was not theirs.
    `actor`: the organiser (recorded in the staff journal)."""
    user = get_rapporteur(event, user_id)
    session = _reported_session(event, session_id)
    removed = db.session.execute(
        db.delete(RapporteurAssignment).where(
            RapporteurAssignment.user_id == user.id, RapporteurAssignment.session_id == session.id
        )
    ).rowcount
    if removed and actor is not None:
        audit.session_assignment_changed(event, user, session, actor, assigned=False)
    db.session.commit()
    return session, bool(removed)


def remove_role(event: Event, user_id: int, *, actor=None) -> User:
    """The person is no longer a rapporteur of this event: role, sessions and unused links go; the account
    (maybe used at other events) and the notes they wrote stay. `actor`: the organiser (staff journal)."""
    user = get_rapporteur(event, user_id)
    now = clock.now()
    session_ids = db.select(Session.id).where(Session.event_id == event.id).scalar_subquery()
    db.session.execute(
        db.delete(RapporteurAssignment).where(
            RapporteurAssignment.user_id == user.id, RapporteurAssignment.session_id.in_(session_ids)
        )
    )
    for invitation in db.session.scalars(
        db.select(StaffInvitation).where(
            StaffInvitation.user_id == user.id,
            StaffInvitation.event_id == event.id,
            StaffInvitation.used_at.is_(None),
            StaffInvitation.expires_at > now,
        )
    ):
        invitation.expires_at = now
    for role in list(user.roles):
        if role.event_id == event.id:
            user.roles.remove(role)
    if actor is not None:
        audit.role_removed(event, user, actor, ROLE)
    db.session.commit()
    return user


# --------------------------------------------------------------------------- the message


@dataclass
class _MailLines:
    """The fields templates/mail/message.{txt,html} lay out (the attendee messages' layout)."""

    lang: str
    subject: str
    greeting: str
    paragraphs: list[str]
    event_title: str
    event_when: str
    event_venue: str
    action_label: str
    action_url: str
    action_note: str
    footer: list[str]
    seats_heading: str = ""
    seats: list = field(default_factory=list)


def compose(user: User, event: Event, token: str, base_url: str | None = None) -> EmailMessage:
    """The invitation message, in French: who invites, what to do, the link and how long it works."""
    from forum_app.registration.notifications import recipient

    url = invitation_url(token, base_url)
    with force_locale(MAIL_LANGUAGE):
        if event.start_date == event.end_date:
            when = i18n.format_day(event.start_date, with_year=True, locale=MAIL_LANGUAGE)
        else:
            when = _(
                "du %(start)s au %(end)s",
                start=i18n.format_day(event.start_date, locale=MAIL_LANGUAGE),
                end=i18n.format_day(event.end_date, with_year=True, locale=MAIL_LANGUAGE),
            )
        subject = _("Votre accès rapporteur·e — %(event)s", event=event.title)
        lines = _MailLines(
            lang=MAIL_LANGUAGE,
            subject=subject,
            greeting=_("Bonjour %(name)s,", name=user.name or user.email),
            paragraphs=[
                _(
                    "L'équipe d'organisation de %(event)s vous a confié la prise de notes de sessions, "
                    "comme rapporteur·e.",
                    event=event.title,
                ),
                _(
                    "Ouvrez le lien ci-dessous pour choisir votre mot de passe : vous verrez ensuite vos "
                    "sessions et la page de prise de notes, sur votre téléphone ou votre ordinateur."
                ),
                _("Votre identifiant est votre adresse e-mail : %(email)s.", email=user.email),
            ],
            event_title=event.title,
            event_when=when,
            event_venue=event.venue or "",
            action_label=_("Choisir mon mot de passe"),
            action_url=url,
            action_note=_(
                "Ce lien est personnel, ne sert qu'une fois et reste valable %(days)d jours. "
                "S'il a expiré, demandez-en un nouveau à l'équipe d'organisation.",
                days=INVITATION_VALIDITY.days,
            ),
            footer=[_("Vous recevez ce message car l'équipe d'organisation de %(event)s vous a invité·e.", event=event.title)],
        )
        text = render_template("mail/message.txt", c=lines)
        html = render_template("mail/message.html", c=lines)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = mail.default_sender()
    message["To"] = recipient(user.name, user.email)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Forum-Message"] = "rapporteur_invitation"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = MAIL_LANGUAGE
    return message


def _compose_and_send(user_id: int, event_id: int, token: str, base_url: str) -> None:
    user, event = db.session.get(User, user_id), db.session.get(Event, event_id)
    if user is None or event is None:
        return
    mail.send(compose(user, event, token, base_url))
