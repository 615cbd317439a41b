"""Declarative base shared by every feature's models."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, TypeDecorator, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic autogenerate and batch ALTERs on SQLite predictable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as naive UTC, returns aware UTC.

    SQLite has no time zone type; storing UTC everywhere and converting to the event's
    zone only for display keeps SQLite and PostgreSQL behaving the same.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def configure_sqlite(engine: Engine) -> None:
    """WAL lets the door stations read while the desk writes; foreign keys are off by default."""
    if engine.dialect.name != "sqlite":
        return
    # begin_write's file lock (SQLite only) is released by this listener, set up here in plain sight.
    _release_writer_lock_when_transactions_end()

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


# --- One writer at a time (shared by the features that must serialise their writes) ---

_WRITER_FD_KEY = "forum_writer_lock_fd"


def begin_write(session) -> None:
    """Make `session`'s transaction the database's one writer before it reads what it will change.

    SQLite: queue on an OS file lock next to the database file (`<db>-writers.lock`, the same
    file the registration services queue on, so both kinds of writers take turns), then
    `BEGIN IMMEDIATE`, which takes SQLite's write lock at once; both are released when the
    transaction ends. A transaction that has already begun (it wrote, or called this before)
    holds the lock already: nothing to do. PostgreSQL: nothing here; callers lock the rows they
    change with `SELECT ... FOR UPDATE`.

    Why BEGIN IMMEDIATE and not SQLAlchemy's pysqlite recipe (`isolation_level=None` plus a
    "begin" hook): with the recipe every read-then-write request of every feature would fail at
    once with "database is locked" whenever another worker wrote in between, as SQLite cannot
    upgrade a stale read snapshot. sqlite3's default transaction control runs reads outside a
    transaction, so an explicit BEGIN IMMEDIATE is the first statement SQLite sees.
    Why the file lock: BEGIN IMMEDIATE alone is correct, but a blocked writer polls with SQLite's
    busy handler, sleeping 1, 2, 5, 10, 15, 20, 25… ms between tries; under a burst of sign-ups on
    two workers most of a request's time went to those sleeps. `flock` wakes the next writer as
    soon as the previous one commits (threads and processes alike: each waiter opens its own
    descriptor).
    """
    import os

    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if connection.connection.dbapi_connection.in_transaction:
        return
    database = connection.engine.url.database
    if _fcntl is not None and database and database != ":memory:" and not database.startswith("file:"):
        fd = os.open(f"{database}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _fcntl.flock(fd, _fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        session.info[_WRITER_FD_KEY] = fd
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        session.rollback()
        raise


try:
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - not on POSIX: BEGIN IMMEDIATE alone
    _fcntl = None


def _release_writer_lock(session, transaction) -> None:
    if transaction.parent is None and _WRITER_FD_KEY in session.info:
        import os

        os.close(session.info.pop(_WRITER_FD_KEY))  # closing the descriptor releases the flock


def _release_writer_lock_when_transactions_end() -> None:
    from sqlalchemy.orm import Session as OrmSession

    if not event.contains(OrmSession, "after_transaction_end", _release_writer_lock):
        event.listen(OrmSession, "after_transaction_end", _release_writer_lock)
