"""Staff account use cases."""
from __future__ import annotations

from forum_app.auth.models import EVENT_ROLES, EventRole, User
from forum_app.errors import InvalidInput
from forum_app.extensions import db
from forum_app.programme.models import Event

MIN_PASSWORD_LENGTH = 10


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
) -> User:
    """Create the account, or update password, name and role of an existing one."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 320:
        raise InvalidInput("Adresse e-mail invalide.", field="email")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.", field="password")
    if role is not None and role not in EVENT_ROLES:
        raise InvalidInput("Rôle inconnu.", field="role")
    user = find_user(email)
    if user is None:
        user = User(email=email, name=name, password_hash="")
        db.session.add(user)
    elif name:
        user.name = name
    user.set_password(password)
    user.is_admin = user.is_admin or is_admin
    if event is not None and role is not None:
        existing = next((r for r in user.roles if r.event_id == event.id), None)
        if existing:
            existing.role = role
        else:
            user.roles.append(EventRole(event_id=event.id, role=role))
    db.session.commit()
    return user
