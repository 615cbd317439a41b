"""Serving in production: static files under a release digest (cache lifetimes, gzip, no way out of
static/), /healthz, one log line per request, gunicorn.conf.py and a real gunicorn start."""
from __future__ import annotations

import gzip
import http.client
import importlib.util
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask_migrate import stamp, upgrade

from forum_app import create_app
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.web import asset_url
from tests.databases import file_database_url

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
RELEASE_URL = re.compile(r"/static/r/([0-9a-f]{12})/css/app\.css")


def _test_settings(**overrides) -> dict:
    return {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}, **overrides}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- static files


def test_pages_link_static_files_under_the_release_digest_cached_for_a_year(client, demo_event):
    html = client.get(f"/e/{demo_event.slug}/").get_data(as_text=True)
    css = RELEASE_URL.search(html)
    assert css, "the stylesheet is not under /static/r/<digest>/"
    assert re.search(rf'src="/static/r/{css.group(1)}/js/agenda\.js"', html)  # one digest for the release

    response = client.get(css.group(0), headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(response.get_data()) == (STATIC / "css" / "app.css").read_bytes()
    assert "Cookie" not in response.headers.get("Vary", "")  # one copy for everyone in a shared cache
    assert "Set-Cookie" not in response.headers


def test_a_digest_of_another_release_still_gets_the_file_but_briefly(client):
    response = client.get("/static/r/000000000000/css/app.css")

    assert response.status_code == 200
    assert response.get_data() == (STATIC / "css" / "app.css").read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=60"


def test_fixed_url_files_are_cached_an_hour_and_the_service_worker_never(client):
    manifest = client.get("/static/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.headers["Cache-Control"] == "public, max-age=3600"
    assert json.loads(manifest.get_data())["start_url"] == "/"
    for url in ("/sw.js", "/static/js/sw.js"):
        worker = client.get(url)
        assert worker.status_code == 200
        assert worker.headers["Cache-Control"] == "no-cache"
        assert worker.get_data() == (STATIC / "js" / "sw.js").read_bytes()


def test_esm_modules_of_the_station_import_each_other_under_the_same_release(app):
    with app.test_request_context():
        station, engine = asset_url("js/checkin/station.js"), asset_url("js/checkin/engine.js")
    # engine.js imports './store.js': relative to its own URL, so under the same digest.
    assert station.rsplit("/", 1)[0] == engine.rsplit("/", 1)[0]
    assert re.fullmatch(r"/static/r/[0-9a-f]{12}/js/checkin", engine.rsplit("/", 1)[0])


@pytest.mark.parametrize("path", [
    "/static/r/x/../../forum_app/config.py",
    "/static/r/x/%2e%2e/%2e%2e/forum_app/config.py",
    "/static/r/x/..%2f..%2fforum_app%2fconfig.py",
    "/static/r/x/%2E%2E%2F%2E%2E%2Fforum_app%2Fconfig.py",
    "/static/r/x/..%5c..%5cforum_app%5cconfig.py",
    "/static/../forum_app/config.py",
    "/static/%2e%2e/forum_app/config.py",
    "/static/r/x//work/main/forum_app/config.py",
    "/static/r/x/%2fetc%2fpasswd",
    "/static/r/x/css",
    "/static/css/app%00.css",
    "/static/r/x/css/app.css%00.py",
    "/static/r/a%00b/css/app.css",
])
def test_no_path_leads_out_of_static(client, path):
    response = client.get(path, follow_redirects=True)

    assert response.status_code == 404
    assert b"class Config" not in response.get_data() and b"root:" not in response.get_data()


def test_css_js_svg_json_and_wasm_are_gzipped_and_revalidate(client):
    for name in ("css/app.css", "js/checkin/engine.js", "img/icon.svg", "manifest.webmanifest",
                 "vendor/barcode-detector/zxing_reader.wasm"):
        raw = (STATIC / name).read_bytes()
        packed = client.get(f"/static/{name}", headers={"Accept-Encoding": "gzip, deflate, br"})
        plain = client.get(f"/static/{name}")

        assert packed.headers["Content-Encoding"] == "gzip", name
        assert len(packed.get_data()) < len(raw), name
        assert gzip.decompress(packed.get_data()) == raw, name
        assert plain.get_data() == raw and "Content-Encoding" not in plain.headers, name
        assert packed.headers["ETag"] != plain.headers["ETag"], name  # two representations, two validators
        for response in (packed, plain):
            assert "Accept-Encoding" in response.headers["Vary"], name
        again = client.get(f"/static/{name}", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
        assert again.status_code == 304, name


def test_debug_gives_new_asset_urls_when_a_static_file_changes(tmp_path):
    app = create_app(_test_settings(DEBUG=True))
    app.static_folder = str(tmp_path)
    (tmp_path / "site.css").write_text("body { color: #111; }")
    with app.test_request_context():
        before = asset_url("site.css")
    (tmp_path / "site.css").write_text("body { color: #222222; }")
    with app.test_request_context():
        after = asset_url("site.css")

    assert before != after and after.endswith("/site.css")
    assert app.test_client().get(after).headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_outside_debug_the_release_digest_is_computed_once(app):
    with app.test_request_context():
        first = asset_url("css/app.css")
    app.extensions["forum_static_digest"] = "0123456789ab"  # what start-up computed is what pages use
    with app.test_request_context():
        assert asset_url("css/app.css") == "/static/r/0123456789ab/css/app.css" != first


# --------------------------------------------------------------------------- /healthz


def _migrated_app(tmp_path, suffix: str, revision: str = "head", **settings):
    url = file_database_url(tmp_path, f"{suffix}.db", suffix=suffix)
    app = create_app(_test_settings(SQLALCHEMY_DATABASE_URI=url, **settings))
    with app.app_context():
        upgrade(revision=revision)
    return app


def _stamped_app(tmp_path, suffix: str, **settings):
    """The models' tables marked as at the migrations' head (tests/test_migrations.py proves the two
    agree): quicker than running every migration, for the tests about what /healthz does with it."""
    url = file_database_url(tmp_path, f"{suffix}.db", suffix=suffix)
    app = create_app(_test_settings(SQLALCHEMY_DATABASE_URI=url, **settings))
    with app.app_context():
        db.create_all()
        stamp()
        db.engine.dispose()
    return app


def test_healthz_answers_ok_on_a_migrated_database_without_cookie_or_cache(tmp_path):
    app = _migrated_app(tmp_path, "healthz")
    with app.app_context():
        response = app.test_client().get("/healthz")
        db.engine.dispose()

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "migrations": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_answers_503_when_migrations_are_behind(tmp_path):
    app = _migrated_app(tmp_path, "healthz_behind", revision="0005")
    with app.app_context():
        response = app.test_client().get("/healthz")
        db.engine.dispose()

    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "ok", "migrations": "behind"}


def test_healthz_answers_503_for_a_schema_not_built_by_the_migrations(client):
    response = client.get("/healthz")  # the suite's databases come from create_all()

    assert response.status_code == 503
    assert response.get_json()["migrations"] == "missing"


@pytest.mark.parametrize("where", ["sqlite-missing-directory", "postgresql-closed-port"])
def test_healthz_answers_503_without_details_when_the_database_is_unreachable(tmp_path, where, caplog):
    url = (f"sqlite:///{tmp_path}/no/such/directory/forum.db" if where.startswith("sqlite")
           else f"postgresql+psycopg://forum:s3cret-password@127.0.0.1:{_free_port()}/forum")
    app = create_app(_test_settings(SQLALCHEMY_DATABASE_URI=url))
    with caplog.at_level(logging.WARNING):
        response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable", "migrations": "unknown"}
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "s3cret" not in body and str(tmp_path) not in body
    assert "s3cret" not in caplog.text  # the log says why, without the password
    assert "health check: database unreachable" in caplog.text


def test_healthz_keeps_its_answer_for_the_configured_seconds(tmp_path):
    app = _stamped_app(tmp_path, "healthz_cache", HEALTHZ_CACHE_SECONDS=60)
    client = app.test_client()
    with app.app_context():
        assert client.get("/healthz").status_code == 200
        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0005'")
        assert client.get("/healthz").status_code == 200  # the checked answer, for 60 s
        app.config["HEALTHZ_CACHE_SECONDS"] = 0
        assert client.get("/healthz").get_json()["migrations"] == "behind"
        db.engine.dispose()


def test_healthz_is_never_rate_limited(tmp_path):
    app = create_app(_test_settings(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute",
                                    SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/no/such/dir.db"))
    client = app.test_client()

    statuses = {client.get("/healthz").status_code for _ in range(6)}

    assert statuses == {503}  # unreachable, but answered every time (no 429)


def test_healthz_success_is_logged_at_debug_only(tmp_path, caplog):
    app = _stamped_app(tmp_path, "healthz_log")
    logging.getLogger().addHandler(caplog.handler)  # migrations/env.py's fileConfig() replaced the root's handlers
    with app.app_context(), caplog.at_level(logging.INFO, logger="forum_app.requests"):
        assert app.test_client().get("/healthz").status_code == 200
        assert not [r for r in caplog.records if r.name == "forum_app.requests"]
        with caplog.at_level(logging.DEBUG, logger="forum_app.requests"):
            app.test_client().get("/healthz")
        db.engine.dispose()

    assert [r.levelno for r in caplog.records if r.name == "forum_app.requests"] == [logging.DEBUG]


# --------------------------------------------------------------------------- request log


def _request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "forum_app.requests"]


def test_request_log_names_the_route_pattern_never_the_path_or_query(client, demo_event, caplog):
    token = "SeCrEtMaGiCtOkEn42"
    with caplog.at_level(logging.INFO, logger="forum_app.requests"):
        client.get(f"/e/{demo_event.slug}/me/{token}?email=lea@example.org")

    (line,) = _request_lines(caplog)
    message = line.getMessage()
    assert re.fullmatch(r"method=GET route=/e/<slug>/me/<token> status=404 duration_ms=\d+\.\d bytes=\d+", message)
    assert token not in caplog.text and "lea@example.org" not in caplog.text and demo_event.slug not in caplog.text
    assert (line.route, line.status, line.http_method) == ("/e/<slug>/me/<token>", 404, "GET")
    assert line.duration_ms >= 0 and line.response_bytes > 0


def test_request_log_gives_duration_and_the_size_sent_gzip_included(client, demo_event, caplog):
    with caplog.at_level(logging.INFO, logger="forum_app.requests"):
        response = client.get(f"/e/{demo_event.slug}/", headers={"Accept-Encoding": "gzip"})

    (line,) = _request_lines(caplog)
    assert response.headers["Content-Encoding"] == "gzip"
    assert line.response_bytes == len(response.get_data())
    assert 0 < line.duration_ms < 10_000
    assert line.levelno == logging.INFO


def test_request_log_puts_server_errors_at_warning_and_unknown_urls_without_their_path(app, caplog):
    def explode():
        raise RuntimeError("boom")

    app.add_url_rule("/test-explodes/<secret>", "explode", lambda secret: explode())
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="forum_app.requests"):
        assert client.get("/test-explodes/hunter2").status_code == 500
        assert client.get("/no/such/page/hunter2").status_code == 404

    failed, unknown = _request_lines(caplog)
    assert failed.levelno == logging.WARNING and failed.getMessage().startswith("method=GET route=/test-explodes/<secret> status=500")
    assert unknown.levelno == logging.INFO and "route=(no route) status=404" in unknown.getMessage()
    assert "hunter2" not in "".join(r.getMessage() for r in _request_lines(caplog))


def test_request_log_level_is_configurable():
    logger = logging.getLogger("forum_app.requests")
    try:
        create_app(_test_settings(REQUEST_LOG_LEVEL="warning"))
        assert logger.level == logging.WARNING and not logger.isEnabledFor(logging.INFO)
    finally:
        create_app(TestConfig)  # back to the default (INFO) for the tests that follow
    assert logger.level == logging.INFO


# --------------------------------------------------------------------------- gunicorn


def _gunicorn_conf(monkeypatch, **environ):
    for name in ("WEB_CONCURRENCY", "GUNICORN_BIND", "GUNICORN_TIMEOUT", "GUNICORN_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_conf_takes_workers_from_the_cores_unless_web_concurrency_says(monkeypatch):
    conf = _gunicorn_conf(monkeypatch)
    assert [conf.workers_for(cores, {}) for cores in (1, 2, 8, 64)] == [2, 2, 8, 8]
    assert [conf.workers_for(cores, {"WEB_CONCURRENCY": "3"}) for cores in (1, 2, 8)] == [3, 3, 3]
    for wrong in ("0", "two", "-1"):
        with pytest.raises(ValueError, match="WEB_CONCURRENCY"):
            conf.workers_for(2, {"WEB_CONCURRENCY": wrong})

    assert conf.workers == conf.workers_for(conf.available_cores(), {})
    assert conf.bind == ["127.0.0.1:8000"] and conf.preload_app and conf.timeout == 60
    assert conf.accesslog is None and conf.logconfig_dict["loggers"]["forum_app.requests"]["handlers"] == ["stdout"]
    assert not any(name.startswith("gunicorn") for name in conf.logconfig_dict["loggers"])  # --access-logfile works

    conf = _gunicorn_conf(monkeypatch, WEB_CONCURRENCY="5", GUNICORN_BIND="unix:/run/forum/gunicorn.sock",
                          GUNICORN_ACCESS_LOG="1")
    assert conf.workers == 5 and conf.bind == ["unix:/run/forum/gunicorn.sock"] and conf.accesslog == "-"


def test_gunicorn_serves_healthz_with_the_documented_command(tmp_path):
    url = _stamped_app(tmp_path, "gunicorn").config["SQLALCHEMY_DATABASE_URI"]
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "gunicorn-test", "GUNICORN_BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": "2", "GUNICORN_ACCESS_LOG": "1", "MAIL_BACKEND": "outbox",
           "MAIL_OUTBOX_DIR": str(tmp_path / "outbox")}
    env.pop("FORUM_NOW", None)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    out, err = (tmp_path / "stdout").open("w+b"), (tmp_path / "stderr").open("w+b")
    server = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "forum_app:create_app()"], cwd=ROOT,
                              env=env, stdout=out, stderr=err, start_new_session=True)
    try:
        deadline, answer = time.monotonic() + 12, None
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                answer = (response.status, json.loads(response.read()), response.getheader("Cache-Control"))
                connection.request("GET", "/e/nowhere/me/TOKEN-NOT-IN-LOGS?q=1")
                connection.getresponse().read()
                connection.close()
            except OSError:
                time.sleep(0.2)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
    stdout, stderr = (f.seek(0) or f.read().decode() for f in (out, err))

    assert answer == (200, {"status": "ok", "database": "ok", "migrations": "ok"}, "no-store"), stderr[-2000:]
    assert "[INFO] method=GET route=/e/<slug>/me/<token> status=404" in stdout  # the app's line, on stdout
    assert re.search(r'"GET /e/<slug>/me/<token>" 404 \d+ \d+ms', stdout)  # GUNICORN_ACCESS_LOG=1: gunicorn's too
    assert "TOKEN-NOT-IN-LOGS" not in stdout + stderr
    assert "route=/healthz" not in stdout  # successful health checks: DEBUG
    assert "Booting worker" in stderr and "static files gzipped" in stderr


# --------------------------------------------------------------------------- README's deployment


def test_readme_environment_file_sets_only_settings_the_app_reads(monkeypatch):
    from sqlalchemy.engine import make_url

    from forum_app.config import Config

    readme = (ROOT / "README.md").read_text()
    block = readme.split("<<ENV\n", 1)[1].split("\nENV\n", 1)[0]
    names = set()
    for line in block.splitlines():
        name, _, value = line.partition("=")
        names.add(name)
        monkeypatch.setenv(name, value.strip('"'))

    settings = Config.from_env()

    assert names - {"FLASK_APP", "DATABASE_URL"} <= set(settings), "a variable the app does not read"
    url = make_url(settings["SQLALCHEMY_DATABASE_URI"])
    assert (url.drivername, url.username, url.host, url.database) == ("postgresql+psycopg", "forum", None, "forum")
    assert settings["MAIL_PORT"] == 587 and settings["MAIL_USE_TLS"] is True and settings["TRUST_PROXY"] is True
    assert "ExecStart=/srv/forum/app/.venv/bin/gunicorn -c gunicorn.conf.py 'forum_app:create_app()'" in readme
