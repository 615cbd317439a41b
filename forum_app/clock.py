"""The one place the application asks for the time, so demos and tests can fix it."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, has_app_context


def now() -> datetime:
    """Aware UTC now; `FORUM_NOW` (ISO 8601 with offset) freezes it."""
    frozen = current_app.config.get("FORUM_NOW") if has_app_context() else None
    if frozen:
        moment = datetime.fromisoformat(frozen)
        if moment.tzinfo is None:
            raise ValueError("FORUM_NOW needs a UTC offset, e.g. 2019-06-06T11:45:00+02:00")
        return moment.astimezone(timezone.utc)
    return datetime.now(timezone.utc)
