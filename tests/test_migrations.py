"""The schema comes from Alembic migrations; they must build exactly what the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from forum_app import create_app
from forum_app.config import TestConfig
from forum_app.extensions import db
from tests.databases import file_database_url


def _app_on_file(tmp_path):
    """An empty database of the run's kind: a SQLite file, or a fresh PostgreSQL database."""
    url = file_database_url(tmp_path, "migrated.db", suffix="migrations")
    return create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                       "SQLALCHEMY_DATABASE_URI": url})


def test_migrations_build_the_schema_the_models_describe(tmp_path):
    app = _app_on_file(tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)

    assert differences == []


def test_migrations_downgrade_to_empty_and_upgrade_again(tmp_path):
    app = _app_on_file(tmp_path)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert {"event", "session", "user"} <= set(inspect(db.engine).get_table_names())
