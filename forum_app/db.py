"""Declarative base shared by every feature's models."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, TypeDecorator, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

_log = logging.getLogger(__name__)

# Stable constraint names keep Alembic autogenerate and batch ALTERs on SQLite predictable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Ids are INTEGER columns: at most this on PostgreSQL (int4; SQLite's reach 2**63 - 1). A larger
# number from a request names no row, and looked up it is a DataError on PostgreSQL (a 500).
MAX_ID = 2**31 - 1


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
    """WAL lets the door stations read while the desk writes; foreign keys are off by default.

    Durability: `synchronous=FULL` (SQLite's own default, made explicit): in WAL mode every commit
    is fsync'ed to the WAL before it is acknowledged, so an acknowledged write survives a power
    loss too (NORMAL would only sync at checkpoints: still consistent, but the last commits before
    a power cut could vanish). A killed process loses nothing committed with either setting: the
    WAL is in the OS's hands as soon as the commit returns (tests/test_crash_recovery.py).
    Waiting: SQLite's busy timeout is SQLITE_WRITE_TIMEOUT (read when a connection opens), past it
    "database is locked" becomes a 503 (forum_app/errors.py).

    PostgreSQL (same call): every connection gets `lock_timeout` = SQLITE_WRITE_TIMEOUT, so a
    request waiting on a row lock (`SELECT ... FOR UPDATE`, an UPDATE) gives up and answers 503
    instead of queueing for ever behind a stuck transaction.
    """
    config = _app_config()
    if engine.dialect.name == "postgresql":
        _set_postgresql_lock_timeout(engine, config)
        return
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
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(write_timeout(config) * 1000)}")
        cursor.close()


def _app_config():
    """The app's live config mapping (read again at each connection), or None outside an app."""
    from flask import current_app, has_app_context

    return current_app.config if has_app_context() else None


DEFAULT_WRITE_TIMEOUT = 10.0  # seconds; Config.SQLITE_WRITE_TIMEOUT


def write_timeout(config=None) -> float:
    """How long a request waits for the write lock before answering 503 (SQLITE_WRITE_TIMEOUT)."""
    if config is None:
        config = _app_config()
    try:
        value = float((config or {}).get("SQLITE_WRITE_TIMEOUT", DEFAULT_WRITE_TIMEOUT))
    except (TypeError, ValueError):
        value = DEFAULT_WRITE_TIMEOUT
    return max(value, 0.001)


def _set_postgresql_lock_timeout(engine: Engine, config) -> None:
    @event.listens_for(engine, "connect")
    def _lock_timeout(dbapi_connection, _record):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a session setting, outside any transaction
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(write_timeout(config) * 1000)}ms",))
            cursor.close()
        finally:
            dbapi_connection.autocommit = autocommit


# SQLSTATEs of a PostgreSQL statement that gave up waiting: lock_not_available (lock_timeout, NOWAIT),
# query_canceled (statement_timeout), deadlock_detected (one of the two is cancelled; a retry passes).
_POSTGRESQL_BUSY = {"55P03", "57014", "40P01"}
_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (primary codes; extended ones keep them in the low byte)


def is_busy_error(error: BaseException) -> bool:
    """A database error that means "too busy right now, try again" (SQLAlchemy's OperationalError
    wrapping sqlite3's "database is locked" or a PostgreSQL lock/statement timeout)."""
    original = getattr(error, "orig", error)
    if getattr(original, "sqlstate", None) in _POSTGRESQL_BUSY:
        return True
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_BUSY
    message = str(original).lower()
    return "database is locked" in message or "database is busy" in message or "database table is locked" in message


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
    Bounded: a writer waits at most SQLITE_WRITE_TIMEOUT for the file lock (then SQLite's busy
    timeout, the same setting, for BEGIN IMMEDIATE) and past it raises ServiceBusy (503 with
    Retry-After; the offline queues retry). An uncontended writer takes the lock with one
    non-blocking call; a queued one waits in a blocking flock (in a helper thread, see
    _FlockWaiter), so it still starts the moment the previous writer commits.
    """
    import os

    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if connection.connection.dbapi_connection.in_transaction:
        return
    database = connection.engine.url.database
    if _fcntl is not None and database and database != ":memory:" and not database.startswith("file:"):
        timeout = write_timeout()
        fd = _lock_file(f"{database}-writers.lock", timeout)
        if fd is None:
            session.rollback()
            _log.warning("No write lock on %s within %.1f s: answering busy", os.path.basename(database), timeout)
            raise _busy()
        session.info[_WRITER_FD_KEY] = fd
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        session.rollback()
        raise


def _lock_file(path: str, timeout: float) -> int | None:
    """Open `path` and take its exclusive flock within `timeout` seconds: the descriptor (the
    caller closes it to release), or None when the lock did not come (nothing left to close)."""
    import os

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
        return fd  # nobody writing: no thread, no wait
    except BlockingIOError:
        pass
    except BaseException:
        os.close(fd)
        raise
    return fd if _FlockWaiter(fd).wait(timeout) else None


class _FlockWaiter:
    """A blocking flock on `fd` in a helper thread, so that the kernel wakes the writer the moment
    the lock is free (polling with LOCK_NB measured 4-7x worse at p99 under contention: the
    writer releasing the lock takes it straight back while the poller sleeps), and the caller
    can still stop waiting after a timeout. A waiter given up on stays blocked in its thread and,
    once it gets the lock, closes the descriptor (which releases it): the caller must then forget
    `fd`. Such threads live at most as long as the lock is held (a stuck gunicorn worker is
    killed after its timeout, which releases its lock)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.mutex = threading.Lock()
        self.finished = threading.Event()
        self.abandoned = False
        self.error: OSError | None = None
        threading.Thread(target=self._run, name="forum-writer-lock", daemon=True).start()

    def _run(self) -> None:
        import os

        try:
            _fcntl.flock(self.fd, _fcntl.LOCK_EX)
        except OSError as error:
            self.error = error
        with self.mutex:
            if self.abandoned or self.error is not None:
                os.close(self.fd)
            self.finished.set()

    def wait(self, timeout: float) -> bool:
        """True: the lock is ours (on `fd`). False: it did not come in time (`fd` is not ours any more)."""
        try:
            self.finished.wait(timeout)
        finally:
            with self.mutex:
                got = self.finished.is_set()
                if not got:
                    self.abandoned = True
        if got and self.error is not None:
            raise self.error
        return got


def _busy():
    from forum_app.errors import ServiceBusy

    return ServiceBusy()


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
