"""Staff account use cases."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext
from werkzeug.security import check_password_hash, generate_password_hash

from forum_app import clock
from forum_app.auth import lockout
from forum_app.auth.models import EVENT_ROLES, EventRole, User
from forum_app.errors import InvalidInput
from forum_app.extensions import db
from forum_app.programme.models import Event

MIN_PASSWORD_LENGTH = 10


def _(message: str, /, **params: object) -> str:
    """The message in the page's language (French outside a request, e.g. the CLI)."""
    text = gettext(message)
    return text % params if params else text


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))


def ensure_user(
    email: str,
    password: str,
    *,
    name: str = "",
    event: Event | None = None,
    role: str | None = None,
    is_admin: bool = False,
    actor=None,
    audited: bool = False,
) -> User:
    """Create the account, or update password, name and role of an existing one.

    A change of role or of site administration goes into the staff journal when `actor` (who
    gives it) is named or `audited` is set (the command line: no actor)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 320:
        raise InvalidInput(_("Adresse e-mail invalide."), field="email")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("Le mot de passe doit compter au moins %(num)d caractères.", num=MIN_PASSWORD_LENGTH), field="password"
        )
    if role is not None and role not in EVENT_ROLES:
        raise InvalidInput(_("Rôle inconnu."), field="role")
    user = find_user(email)
    before_role = user.role_at(event.id) if user is not None and event is not None else None
    before_admin = bool(user is not None and user.is_admin)
    if user is None:
        user = User(email=email, name=name, password_hash="")
        db.session.add(user)
    elif name:
        user.name = name
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    user.is_admin = user.is_admin or is_admin
    if event is not None and role is not None:
        existing = next((r for r in user.roles if r.event_id == event.id), None)
        if existing:
            existing.role = role
        else:
            user.roles.append(EventRole(event_id=event.id, role=role))
    if actor is not None or audited:
        from forum_app.audit import actions as audit

        db.session.flush()  # a new account's id
        audit.role_given(event, user, actor, before_role, before_admin)
    db.session.commit()
    return user


# --- Login (staff screens) ---

@cache
def _dummy_hash() -> str:
    """Checked when the e-mail is unknown (or has no password yet), so every failure takes the
    time of one hash check: the answer's timing does not tell which accounts exist."""
    return generate_password_hash("not-a-real-password")


def authenticate(email: str, password: str) -> User | None:
    """The active account with this e-mail and password, or None (whichever of the two is wrong)."""
    user = find_user(email or "")
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


@dataclass(frozen=True)
class LoginAttempt:
    """What a login form post led to: the account (success), or a refusal, locked or not."""

    user: User | None
    locked_until: datetime | None = None  # the address is locked until then (aware UTC)


def log_in(email: str, password: str) -> LoginAttempt:
    """`authenticate`, with the lockout of repeated failures (auth/lockout.py).

    While an address is locked its password is not even compared: the right one is refused
    too. Known and unknown addresses, locked or not, take one hash check and get the same answers.
    """
    key = lockout.email_key(email)
    now = clock.now()
    until = lockout.locked_until(key, now)
    if until is not None:
        check_password_hash(_dummy_hash(), password or "")  # the same time as a real check
        return LoginAttempt(None, until)
    user = authenticate(email, password)
    if user is not None:
        lockout.forget(key)
        return LoginAttempt(user)
    until = lockout.record_failure(key, now)
    if until is not None:
        known = find_user(email or "")
        # Who, never what was typed as the password (nor, for unknown addresses, what was typed at all).
        who = f"account {known.id} <{known.email}>" if known else f"unknown address (key {key[:12]})"
        current_app.logger.warning(
            "login locked until %s for %s after %d failed passwords",
            until.isoformat(timespec="seconds"), who, current_app.config["LOGIN_LOCKOUT_ATTEMPTS"],
        )
    return LoginAttempt(None, until)


def unlock_login(email: str) -> bool:
    """Lift the lock (and forget the failures) of an address: True when it had any. Commits."""
    unlocked = lockout.unlock(lockout.email_key(email))
    if unlocked:
        current_app.logger.warning("login unlocked for %s", normalise_email(email))
    return unlocked


def safe_next_path(target: str | None) -> str | None:
    """`target` if it is a path on this site ('/e/x/admin/'), else None: no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@dataclass(frozen=True)
class StaffEvent:
    event: Event
    role: str  # "admin" for site administrators without a role at the event


def staff_events(user: User) -> list[StaffEvent]:
    """The events a staff member works on, with their role (every event for site admins)."""
    roles = {role.event_id: role.role for role in user.roles}
    if user.is_admin:
        events = db.session.scalars(db.select(Event).order_by(Event.start_date.desc()))
        return [StaffEvent(event, roles.get(event.id, "admin")) for event in events]
    if not roles:
        return []
    events = db.session.scalars(db.select(Event).where(Event.id.in_(roles)).order_by(Event.start_date.desc()))
    return [StaffEvent(event, roles[event.id]) for event in events]


def home_event_slug(user: User) -> str | None:
    """Where login lands without `next`: the one event this user organises, if there is exactly one."""
    if user.is_admin:
        return None
    organised = [entry for entry in staff_events(user) if entry.role == "organiser"]
    if len(organised) == 1 and len(user.roles) == 1:
        return organised[0].event.slug
    return None
