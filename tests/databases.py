"""Which database the suite runs on, and fresh PostgreSQL databases for the tests that need one
of their own (migrations from empty, the browser tests' live server, restores).

CI runs the whole suite twice: on SQLite (the default: in memory, or files under tmp_path) and
on PostgreSQL, by setting TEST_DATABASE_URL (see .ci/run and scripts/postgres-local.sh).
"""
from __future__ import annotations

import os

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or ""
ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")


def scratch_database_url(suffix: str) -> str:
    """A new, empty PostgreSQL database beside TEST_DATABASE_URL's (an older one of the same
    name is dropped first), as a URL."""
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_{suffix}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        admin.dispose()


def file_database_url(tmp_path, name: str = "forum.db", suffix: str = "file") -> str:
    """A database of the run's kind that a test may open from several connections or processes:
    a SQLite file under tmp_path, or a scratch PostgreSQL database."""
    if ON_POSTGRESQL:
        return scratch_database_url(suffix)
    return f"sqlite:///{tmp_path / name}"
