"""Login lockout: after LOGIN_LOCKOUT_ATTEMPTS failed passwords for one address within
LOGIN_LOCKOUT_WINDOW_MINUTES, password login for that address is refused for LOGIN_LOCKOUT_MINUTES.

Per address, not per account: unknown addresses are counted and locked the same way (nothing
is created for them but the counter row), so neither the wording nor the timing tells an attacker
which addresses exist. The per-IP rate limit of the login form (auth/views.py) slows one machine;
this stops a slow guess spread over many machines against one account.

Counting is one UPDATE that adds one to the stored count (`failed_count = failed_count + 1`),
so failures arriving at the same moment on several workers are all counted.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, literal, or_, update

from forum_app import clock
from forum_app.auth.models import LoginThrottle
from forum_app.db import UTCDateTime, begin_write
from forum_app.extensions import db


def email_key(email: str) -> str:
    """The row's key for an address: an HMAC (the app's secret key) of the normalised address."""
    normalised = (email or "").strip().lower()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"login-throttle:" + normalised.encode(), hashlib.sha256).hexdigest()


def locked_until(key: str, now: datetime | None = None) -> datetime | None:
    """When password login opens again for this address, or None when it is not locked."""
    now = now or clock.now()
    row = db.session.get(LoginThrottle, key)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def has_record(key: str) -> bool:
    return db.session.get(LoginThrottle, key) is not None


def record_failure(key: str, now: datetime | None = None) -> datetime | None:
    """Count one failed password; returns the end of the lock when this failure locks the address.

    Commits. Reaching the limit starts the lock and a fresh count for after it.
    """
    config = current_app.config
    attempts = max(1, int(config["LOGIN_LOCKOUT_ATTEMPTS"]))
    window = timedelta(minutes=int(config["LOGIN_LOCKOUT_WINDOW_MINUTES"]))
    lock_for = timedelta(minutes=int(config["LOGIN_LOCKOUT_MINUTES"]))
    now = now or clock.now()
    begin_write(db.session)
    _ensure_row(key)
    table = LoginThrottle.__table__
    columns = table.c
    fresh = or_(columns.failed_since.is_(None), columns.failed_since <= now - window)
    count = case((fresh, 1), else_=columns.failed_count + 1)
    locks = count >= attempts
    statement = (
        update(table)
        .where(columns.email_key == key)
        .values(
            failed_count=case((locks, 0), else_=count),
            failed_since=case((locks, None), (fresh, literal(now, UTCDateTime)), else_=columns.failed_since),
            locked_until=case((locks, literal(now + lock_for, UTCDateTime)), else_=columns.locked_until),
        )
        .returning(columns.failed_count, columns.locked_until)
    )
    count_after, until = db.session.execute(statement).one()
    db.session.commit()
    return until if count_after == 0 else None  # 0: this failure reached the limit


def unlock(key: str) -> bool:
    """Forget the failures and any lock of this address; True when there was something to forget. Commits."""
    begin_write(db.session)
    removed = db.session.execute(delete(LoginThrottle).where(LoginThrottle.email_key == key)).rowcount
    db.session.commit()
    return bool(removed)


def forget(key: str) -> None:
    """A successful login: the failures before it no longer count (a write only when there were some)."""
    if has_record(key):
        unlock(key)


def locked_keys(keys: list[str], now: datetime | None = None) -> dict[str, datetime]:
    """Of these keys, the locked ones with the end of their lock."""
    if not keys:
        return {}
    now = now or clock.now()
    rows = db.session.scalars(
        db.select(LoginThrottle).where(LoginThrottle.email_key.in_(keys), LoginThrottle.locked_until > now)
    )
    return {row.email_key: row.locked_until for row in rows}


def _ensure_row(key: str) -> None:
    """The address's counter row, created if missing (two workers creating it at once: one wins, no error)."""
    if db.session.get(LoginThrottle, key) is not None:
        return
    values = {"email_key": key, "failed_count": 0}
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(LoginThrottle).values(**values).on_conflict_do_nothing(index_elements=["email_key"]))
