"""gunicorn settings for forum_app in production:

    .venv/bin/gunicorn -c gunicorn.conf.py 'forum_app:create_app()'

Environment (all optional):
  GUNICORN_BIND       where to listen: 127.0.0.1:8000 (a reverse proxy in front), or unix:/run/forum/gunicorn.sock
  WEB_CONCURRENCY     number of workers (default: from the core count, see workers_for)
  GUNICORN_TIMEOUT    seconds a request may take before its worker is replaced (default 60)
  GUNICORN_LOG_LEVEL  gunicorn's own messages (default info)
  GUNICORN_ACCESS_LOG 1: gunicorn's access line too (client address, route pattern, status, bytes, ms)
  REQUEST_LOG_LEVEL   the app's request lines (forum_app/config.py): INFO, WARNING (5xx only), DEBUG

Logs: one line per request on standard output from the app's "forum_app.requests" logger
(`method=GET route=/e/<slug>/ status=200 duration_ms=3.2 bytes=2048`: the route's pattern, never the
path, which can hold an attendee's magic link, nor the query string); gunicorn's and the app's other
messages on standard error. Under systemd both go to the journal. gunicorn's own access log is off
by default: it would repeat the line, and its usual formats print the raw path.

gunicorn reads ./gunicorn.conf.py by itself when started from the repository root, so a bare
`gunicorn 'forum_app:create_app()'` there (bench/harness.py) gets these settings too; options given
on the command line (-w, -b, --access-logfile...) win over them.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

MAX_WORKERS = 8  # ~140 MB each at rest, up to ~300 MB while rendering 1,000 badges


def available_cores() -> int:
    """Cores this process may run on (a container's or systemd's CPU affinity included)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def workers_for(cores: int, environ: Mapping[str, str] = os.environ) -> int:
    """WEB_CONCURRENCY when set; else one sync worker per core, at least 2, at most MAX_WORKERS.

    Why not gunicorn's usual 2 × cores + 1: the app is CPU-bound (templates, the ORM, signatures,
    PDFs) and its database (SQLite, or PostgreSQL on the same small server) needs CPU too. On the
    2-core machine of bench/RESULTS.md, 2 sync workers served more check-ins than 4 ("4 workers are
    worse than 2: more switching, no more cores"), and the programme page is CPU-bound in the
    workers. At least 2, so that one long request (1,000 badges: ~9 s; a big report's first PDF:
    ~20 s) never leaves everyone else waiting on a 1-core machine.
    """
    value = (environ.get("WEB_CONCURRENCY") or "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"WEB_CONCURRENCY must be a whole number of workers ≥ 1, not {value!r}")
        return int(value)
    return min(max(2, cores), MAX_WORKERS)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


bind = [os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"]
workers = workers_for(available_cores())
worker_class = "sync"
# Badge sheets for 1,000 attendees take ~9 s, a 40-session report's first PDF ~20 s (then cached).
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
graceful_timeout = 30  # a restart lets requests in progress finish
keepalive = 5  # seconds an idle keep-alive connection stays open (the proxy reuses them)

# The app is loaded once in the master, then forked: less memory, and an app that cannot start
# (bad configuration, missing package) stops gunicorn at once instead of looping on workers.
# SQLAlchemy's connection pools must not cross a fork: post_fork gives each worker its own.
preload_app = True

loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"
errorlog = "-"
accesslog = "-" if _flag("GUNICORN_ACCESS_LOG") else None
# %({forum_app.route}e)s: the route's pattern that the app leaves in the WSGI environ (forum_app/web.py).
access_log_format = '%(h)s %(t)s "%(m)s %({forum_app.route}e)s" %(s)s %(B)s %(M)sms'
# The app's loggers only: gunicorn.error and gunicorn.access are left out on purpose, so that
# --error-logfile / --access-logfile (or the settings above) keep deciding where they write.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING", "handlers": ["stderr"]},
    "loggers": {
        "forum_app": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        # Its level comes from REQUEST_LOG_LEVEL (set by the app).
        "forum_app.requests": {"handlers": ["stdout"], "propagate": False},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stdout"},
        "stderr": {"class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stderr"},
    },
    "formatters": {
        "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
                    "datefmt": "[%Y-%m-%d %H:%M:%S %z]", "class": "logging.Formatter"},
    },
}


def _flask_app(server):
    """The app the master loaded (preload_app), or None."""
    if not server.cfg.preload_app:
        return None
    app = server.app.wsgi()
    return app if hasattr(app, "app_context") else None


def when_ready(server):
    """Master, app loaded, before the first fork: gzip the static files once for every worker."""
    app = _flask_app(server)
    if app is not None:
        from forum_app import web

        server.log.info("forum_app: %d static files gzipped, release %s", web.precompress_static(app),
                        app.extensions.get("forum_static_digest"))


def post_fork(server, worker):
    """Each worker forgets the master's database connections (if any: dispose(close=False) leaves
    the master's own alone) and opens its own on first use."""
    app = _flask_app(server)
    if app is None:
        return
    from forum_app.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
