"""Security headers, HSTS behind a proxy, cookie flags, and the rate limits' 429 answers
(login, registration, the JSON API) with Retry-After and a French message."""
from __future__ import annotations

import html
import re

from forum_app.auth import services as auth_services
from forum_app.config import Config
from forum_app.extensions import db
from forum_app.programme import imports
from forum_app.registration.models import Registration
from tests.conftest import DEMO_JSON

PASSWORD = "correct-horse-battery"
STRICT_CSP_PARTS = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
)
HSTS = "max-age=31536000; includeSubDomains"


def staff(email: str, role: str | None = None, event=None):
    return auth_services.ensure_user(email, PASSWORD, name="Camille", event=event, role=role)


def log_in(client, email: str, password: str = PASSWORD, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def cookie_header(response, name: str) -> str:
    found = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{name}=")]
    assert found, f"no {name} cookie in {response.headers.getlist('Set-Cookie')}"
    return found[0]


def assert_strict_headers(response):
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    for part in STRICT_CSP_PARTS:
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp.replace("wasm-unsafe-eval", "")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in {"same-origin", "no-referrer"}
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"] and "microphone=()" in headers["Permissions-Policy"]


# Headers ------------------------------------------------------------------------------------------


def test_headers_public_programme_page_is_strict_and_same_origin(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/")

    assert response.status_code == 200
    assert_strict_headers(response)
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain http


def test_headers_staff_page_is_strict_and_never_stored(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))

    response = client.get(f"/e/{demo_event.slug}/admin/")

    assert response.status_code == 200
    assert_strict_headers(response)
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_headers_checkin_station_alone_gets_the_camera_and_webassembly(client, demo_event, make_user, login):
    login(make_user("volunteer", demo_event))

    station = client.get(f"/e/{demo_event.slug}/checkin")
    staff_home = client.get("/admin/")

    assert station.status_code == 200
    assert_strict_headers(staff_home)
    assert "camera=(self)" in station.headers["Permissions-Policy"]
    assert "microphone=()" in station.headers["Permissions-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in station.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in station.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in station.headers["Content-Security-Policy"]


def test_headers_api_answer_is_same_origin_json(client, demo_event, make_user, login):
    login(make_user("volunteer", demo_event))

    response = client.get(f"/api/v1/e/{demo_event.slug}/checkin-kit")

    assert response.status_code == 200 and response.is_json
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Retry-After" not in response.headers


def test_headers_file_download_keeps_the_strict_headers(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/programme.ics")

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert_strict_headers(response)
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"  # a download is a navigation


def test_headers_open_data_read_by_other_sites_is_cross_origin(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/schedule.json")

    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_headers_published_report_photos_are_the_endpoint_marked_cross_origin(app):
    from forum_app.security import CROSS_ORIGIN_ENDPOINTS

    assert CROSS_ORIGIN_ENDPOINTS <= set(app.view_functions)
    assert app.url_map._rules_by_endpoint["report.photo"][0].rule == "/e/<slug>/report/photos/<name>"


# HSTS and the reverse proxy ---------------------------------------------------------------------


def test_hsts_is_sent_over_https(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/", base_url="https://forum.example.org")

    assert response.headers["Strict-Transport-Security"] == HSTS


def test_hsts_behind_a_trusted_proxy_follows_x_forwarded_proto(own_app):
    app = own_app(TRUST_PROXY=True)
    client = app.test_client()

    over_tls = client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
    over_http = client.get("/login", headers={"X-Forwarded-Proto": "http"})
    direct = client.get("/login")

    assert over_tls.headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in over_http.headers
    assert "Strict-Transport-Security" not in direct.headers


def test_hsts_ignores_a_forwarded_proto_header_when_no_proxy_is_trusted(client):
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})

    assert "Strict-Transport-Security" not in response.headers


def test_trust_proxy_rate_limits_the_client_address_the_proxy_names(own_app):
    app = own_app(TRUST_PROXY=True, RATELIMIT_ENABLED=True, LOGIN_LOCKOUT_ATTEMPTS=1000)
    client = app.test_client()
    behind = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}

    answers = [log_in(client, f"x{n}@example.org", "wrong-password", headers=behind).status_code for n in range(11)]
    other_client = log_in(client, "y@example.org", "wrong-password", headers={"X-Forwarded-For": "198.51.100.9"})

    assert answers == [401] * 10 + [429]
    assert other_client.status_code == 401  # another address behind the same proxy


def test_trust_proxy_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUST_PROXY", "1")
    assert Config.from_env()["TRUST_PROXY"] is True
    monkeypatch.setenv("TRUST_PROXY", "0")
    assert Config.from_env()["TRUST_PROXY"] is False


# Cookies ----------------------------------------------------------------------------------------


def test_cookies_session_is_httponly_lax_and_not_secure_over_plain_http(client, app):
    staff("orga@example.org")

    response = log_in(client, "orga@example.org")

    session = cookie_header(response, "session")
    assert "HttpOnly" in session and "SameSite=Lax" in session
    assert "Secure" not in session


def test_cookies_are_secure_when_the_public_address_is_https(own_app):
    app = own_app(PUBLIC_BASE_URL="https://forum.example.org")
    client = app.test_client()
    staff("orga@example.org")

    response = log_in(client, "orga@example.org", base_url="https://forum.example.org")
    language = client.get("/login?lang=en", base_url="https://forum.example.org")

    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    session = cookie_header(response, "session")
    assert "Secure" in session and "HttpOnly" in session and "SameSite=Lax" in session
    lang = cookie_header(language, "lang")
    assert "Secure" in lang and "HttpOnly" in lang and "SameSite=Lax" in lang


def test_cookies_secure_flag_can_be_turned_off_explicitly(own_app):
    app = own_app(PUBLIC_BASE_URL="https://forum.example.org", SESSION_COOKIE_SECURE=False)

    assert app.config["SESSION_COOKIE_SECURE"] is False and app.config["REMEMBER_COOKIE_SECURE"] is False


def test_cookies_secure_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "off")
    assert Config.from_env()["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    assert Config.from_env()["REMEMBER_COOKIE_SECURE"] is True
    monkeypatch.delenv("SESSION_COOKIE_SECURE")
    assert "SESSION_COOKIE_SECURE" not in Config.from_env()  # then PUBLIC_BASE_URL decides


def test_cookies_language_choice_is_httponly_and_lax(client):
    response = client.get("/login?lang=en")

    lang = cookie_header(response, "lang")
    assert "HttpOnly" in lang and "SameSite=Lax" in lang and "Secure" not in lang


# Rate limits: 429 with Retry-After and French words ---------------------------------------------


def test_rate_limit_login_answers_429_in_french_with_retry_after(own_app):
    app = own_app(RATELIMIT_ENABLED=True)
    client = app.test_client()

    for n in range(10):
        log_in(client, f"intrus{n}@example.org", "wrong-password")
    blocked = log_in(client, "intrus@example.org", "wrong-password")

    assert blocked.status_code == 429
    assert '<html lang="fr">' in blocked.get_data(as_text=True)
    assert "Trop de tentatives de connexion. Patientez une minute" in html.unescape(blocked.get_data(as_text=True))
    assert 1 <= int(blocked.headers["Retry-After"]) <= 61


def test_rate_limit_registration_answers_429_in_french_with_retry_after(own_app):
    app = own_app(RATELIMIT_ENABLED=True)
    event = imports.import_schedule_file(DEMO_JSON).event
    client = app.test_client()

    answers = [client.post(f"/e/{event.slug}/register", data={"email": f"p{n}@example.org"}).status_code for n in range(10)]
    blocked = client.post(f"/e/{event.slug}/register", data={"email": "late@example.org"})

    assert 429 not in answers
    assert blocked.status_code == 429
    page = html.unescape(blocked.get_data(as_text=True))
    assert "Trop de tentatives" in page and "Réessayez dans une heure." in page
    assert 3000 <= int(blocked.headers["Retry-After"]) <= 3601  # 10 an hour (+1: the window's second)


def test_rate_limit_api_is_per_staff_member_and_answers_json_429(own_app):
    app = own_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    event = imports.import_schedule_file(DEMO_JSON).event
    staff("porte1@example.org", "volunteer", event)
    staff("porte2@example.org", "volunteer", event)
    first, second = app.test_client(), app.test_client()
    log_in(first, "porte1@example.org")
    log_in(second, "porte2@example.org")
    kit = f"/api/v1/e/{event.slug}/checkin-kit"

    answers = [first.get(kit).status_code for _ in range(3)]
    blocked = first.get(kit)
    scan = first.post(f"/api/v1/e/{event.slug}/checkins", json={"badge": "x", "client_id": "c1", "station": "A"})
    other = second.get(kit)

    assert answers == [200, 200, 200]
    assert blocked.status_code == 429 and scan.status_code == 429  # one budget for the whole API
    body = blocked.get_json()
    assert body["code"] == "rate_limited" and body["error"] == 429
    assert body["message"] == "Trop de requêtes en peu de temps : patientez quelques secondes avant de réessayer."
    assert 1 <= int(blocked.headers["Retry-After"]) <= 61
    assert blocked.headers["Cache-Control"] == "no-store"
    assert other.status_code == 200  # the other station's account has its own budget


def test_rate_limit_api_counts_anonymous_callers_by_address(own_app):
    app = own_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute")
    event = imports.import_schedule_file(DEMO_JSON).event
    client = app.test_client()
    kit = f"/api/v1/e/{event.slug}/checkin-kit"

    answers = [client.get(kit).status_code for _ in range(3)]
    elsewhere = client.get(kit, environ_base={"REMOTE_ADDR": "10.1.2.3"})

    assert answers == [401, 401, 429]
    assert elsewhere.status_code == 401


def test_rate_limit_api_default_is_generous_and_configurable(monkeypatch):
    assert Config.API_RATE_LIMIT == "600 per minute"
    monkeypatch.setenv("API_RATE_LIMIT", "50 per second")
    assert Config.from_env()["API_RATE_LIMIT"] == "50 per second"


def test_rate_limit_storage_for_several_workers_is_documented():
    readme = (DEMO_JSON.parents[2] / "README.md").read_text()

    row = next(line for line in readme.splitlines() if line.startswith("| `RATELIMIT_STORAGE_URI`"))
    assert "`memory://`" in row and "redis://" in row
    assert re.search(r"\| `API_RATE_LIMIT` \| `600 per minute` \|", readme)
    assert "| `TRUST_PROXY` |" in readme


def test_form_posted_without_its_csrf_token_says_it_expired_and_saves_nothing(own_app):
    app = own_app(WTF_CSRF_ENABLED=True)
    event = imports.import_schedule_file(DEMO_JSON).event
    client = app.test_client()

    response = client.post(f"/e/{event.slug}/register", data={
        "first_name": "Awa", "last_name": "Diallo", "email": "awa@example.org", "consent": "y",
    })

    assert response.status_code == 400
    assert '<html lang="fr">' in response.get_data(as_text=True)
    assert "Le formulaire a expiré : rien n'a été enregistré." in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 0
