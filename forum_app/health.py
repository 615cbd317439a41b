"""GET /healthz for load balancers and monitoring: can this worker serve?

200 `{"status": "ok", "database": "ok", "migrations": "ok"}` when the database answers `SELECT 1`
and its `alembic_version` is the head of migrations/; otherwise 503 with what failed:
`database` "unreachable", `migrations` "behind" (an older revision: run `flask db upgrade`),
"missing" (no alembic_version: a schema not built by the migrations, or an empty database) or
"unknown" (a revision these migrations do not know: newer code ran on this database, or the
check could not tell). Never a stack trace, never the database's URL.

The answer is kept HEALTHZ_CACHE_SECONDS (5) per worker: checks every few seconds from several
monitors cost one query each period. No session cookie, `Cache-Control: no-store`, no rate limit;
a success is logged at DEBUG (forum_app/web.py QUIET_ENDPOINTS), a failure at WARNING.
"""
from __future__ import annotations

import logging
import os
import time

from flask import Flask, Response, current_app, jsonify
from sqlalchemy import text

from forum_app.extensions import db, limiter

log = logging.getLogger(__name__)
_CACHE_KEY = "forum_healthz"


def init_app(app: Flask) -> None:
    app.config.setdefault("HEALTHZ_CACHE_SECONDS", 5)
    app.add_url_rule("/healthz", endpoint="healthz", view_func=healthz)


@limiter.exempt
def healthz() -> Response:
    report = _cached_report()
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _cached_report() -> dict[str, str]:
    app = current_app
    now = time.monotonic()
    known = app.extensions.get(_CACHE_KEY)
    if known is not None and now - known[0] < float(app.config["HEALTHZ_CACHE_SECONDS"]):
        return known[1]
    report = check(app)
    app.extensions[_CACHE_KEY] = (now, report)
    return report


def check(app: Flask) -> dict[str, str]:
    """The database's and the schema's state, as /healthz reports it."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                versions = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
            except Exception:  # noqa: BLE001 - no such table: reported as "missing"
                versions = set()
    except Exception as error:  # noqa: BLE001 - whatever the driver raises, the answer is a 503
        log.warning("health check: database unreachable (%s)", _first_line(error))
        return {"status": "error", "database": "unreachable", "migrations": "unknown"}
    try:
        heads, known = migration_heads(app.extensions["migrate"].directory)
    except Exception as error:  # noqa: BLE001
        log.warning("health check: cannot read the migrations (%s)", _first_line(error))
        return {"status": "error", "database": "ok", "migrations": "unknown"}
    if versions == heads:
        migrations = "ok"
    elif not versions:
        migrations = "missing"
    elif versions <= known:
        migrations = "behind"
    else:
        migrations = "unknown"
    if migrations != "ok":
        log.warning("health check: database at %s, migrations at %s", sorted(versions) or "nothing", sorted(heads))
    return {"status": "ok" if migrations == "ok" else "error", "database": "ok", "migrations": migrations}


_heads_cache: dict[str, tuple[tuple[str, ...], frozenset[str], frozenset[str]]] = {}


def migration_heads(directory: str) -> tuple[frozenset[str], frozenset[str]]:
    """(head revisions, every revision) of the Alembic scripts in `directory`; read again only
    when the files in versions/ change."""
    files = tuple(sorted(os.listdir(os.path.join(directory, "versions"))))
    known = _heads_cache.get(directory)
    if known is None or known[0] != files:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory(directory)
        known = (files, frozenset(script.get_heads()), frozenset(r.revision for r in script.walk_revisions()))
        _heads_cache[directory] = known
    return known[1], known[2]


def _first_line(error: Exception) -> str:
    """The error's class and first line (driver messages name the host and user, never the password)."""
    message = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {message[0][:200] if message else ''}"
