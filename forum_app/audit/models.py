"""One row per staff action that changed something an organiser may later need to account for."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from forum_app.db import UTCDateTime, utcnow
from forum_app.extensions import db


class AuditEntry(db.Model):
    """Append-only: nothing in the application edits or deletes a row (the event's deletion
    cascades; erasing an attendee's data redacts the entries that name them, see
    `services.redact_registration`).

    `actor_name`/`actor_email` copy the acting account so the entry reads the same once the
    account is gone (`user_id` then becomes NULL). No IP address is stored: the actor is an
    authenticated staff account, and the request log already carries the address for the
    short time logs are kept. `registration_id` (no foreign key, so it outlives the row) is
    the attendee the entry is about, used to redact entries when that attendee is erased.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_event_id_at", "event_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    actor_email: Mapped[str] = mapped_column(String(320), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None] = mapped_column()
    registration_id: Mapped[int | None] = mapped_column(index=True)
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
