"""Holding the database's write lock from another connection, as a slow writer of the same data
would (the write-contention tests: tests/test_write_contention.py, tests/browser/test_browser_busy.py).

SQLite: `begin_write` (the writers' file lock next to the database, then BEGIN IMMEDIATE);
PostgreSQL: `SELECT ... FOR UPDATE` of the rows the requests under test must lock (SQLite ignores
FOR UPDATE: begin_write already made the holder the one writer). Requests that need the lock
meanwhile wait SQLITE_WRITE_TIMEOUT (PostgreSQL: the `lock_timeout` the app sets from it), then
answer 503.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from forum_app.db import begin_write
from forum_app.extensions import db


@contextmanager
def write_lock_held(app, *locked_rows) -> Iterator[None]:
    """Another connection, in its own thread, is the database's writer until the block ends:
    begin_write, then each of `locked_rows` (SELECT ... FOR UPDATE statements) executed."""
    held, release = threading.Event(), threading.Event()
    problems: list[BaseException] = []

    def hold() -> None:
        with app.app_context():
            try:
                begin_write(db.session)
                for statement in locked_rows:
                    db.session.execute(statement).all()
            except BaseException as error:  # noqa: BLE001 - reported by the caller
                problems.append(error)
            finally:
                held.set()
            release.wait(120)
            db.session.rollback()
            db.session.remove()

    thread = threading.Thread(target=hold, name="slow-writer", daemon=True)
    thread.start()
    assert held.wait(10) and not problems, problems
    try:
        yield
    finally:
        release.set()
        thread.join(10)
