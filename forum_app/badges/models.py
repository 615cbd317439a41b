"""Each event's Ed25519 signing keys for badges."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum_app.db import UTCDateTime, utcnow
from forum_app.extensions import db


class BadgeKey(db.Model):
    """An event's signing key. Old keys stay (inactive) so badges printed with them still verify."""

    __tablename__ = "badge_key"
    __table_args__ = (UniqueConstraint("event_id", "key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[int]  # small number carried in the badge payload
    private_key: Mapped[bytes] = mapped_column(LargeBinary(64))  # raw 32-byte Ed25519 seed
    public_key: Mapped[bytes] = mapped_column(LargeBinary(64))  # raw 32 bytes
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
