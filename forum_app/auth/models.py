"""Staff accounts and their role at each event."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from forum_app.db import UTCDateTime, utcnow
from forum_app.extensions import db

EVENT_ROLES = ("organiser", "volunteer", "rapporteur")


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    roles: Mapped[list[EventRole]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:  # invited, no password chosen yet: no password opens the account
            return False
        return check_password_hash(self.password_hash, password)

    def is_organiser_at(self, event_id: int) -> bool:
        """Organises this event (site admins organise every event)."""
        return self.is_admin or self.role_at(event_id) == "organiser"

    def role_at(self, event_id: int) -> str | None:
        for role in self.roles:
            if role.event_id == event_id:
                return role.role
        return None


class EventRole(db.Model):
    __tablename__ = "event_role"
    __table_args__ = (UniqueConstraint("user_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="roles")


class StaffInvitation(db.Model):
    """A one-time link an organiser sends to a new staff member (a rapporteur) to choose their
    password. Only the token's SHA-256 is kept; the link travels by email."""

    __tablename__ = "staff_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class LoginThrottle(db.Model):
    """Failed password logins for one e-mail address, and the lock they led to (see auth/lockout.py).

    Keyed by an HMAC of the normalised address, not by user: an unknown address is counted and
    locked exactly like a real account (the answer must not tell which addresses exist), and no
    address typed by a stranger is stored in clear. Only rows with a failure or a lock exist; a
    successful login or an unlock deletes the row.
    """

    __tablename__ = "login_throttle"

    email_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_count: Mapped[int] = mapped_column(default=0)
    failed_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first failure of the window
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
