"""Login lockout: ten failed passwords for one address within 15 minutes lock password login for
15 minutes, the same way for unknown addresses; success resets the count; organisers unlock with
`flask users unlock`; concurrent failures all count."""
from __future__ import annotations

import html
import logging
import re
import threading
from datetime import datetime, timedelta

import pytest

from forum_app import create_app
from forum_app.auth import lockout
from forum_app.auth import services as auth_services
from forum_app.auth.models import LoginThrottle, User
from forum_app.config import TestConfig
from forum_app.extensions import db
from tests.databases import ON_POSTGRESQL, drop_database, file_database_url

PASSWORD = "correct-horse-battery"
WRONG = "wrong-password-123"
BAD_LOGIN = "Adresse e-mail ou mot de passe incorrect."
START = "2019-06-06T14:00:00+02:00"  # locks until 14 h 15


def at(app, moment: str | datetime) -> None:
    app.config["FORUM_NOW"] = moment if isinstance(moment, str) else moment.isoformat()


def later(minutes: float) -> str:
    return (datetime.fromisoformat(START) + timedelta(minutes=minutes)).isoformat()


def staff(email: str = "orga@example.org") -> User:
    return auth_services.ensure_user(email, PASSWORD, name="Camille")


def log_in(client, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password})


def error_of(response) -> str:
    """The form's error summary, as the page shows it."""
    found = re.search(r'<div class="error-summary" role="alert">(.*?)</div>', response.get_data(as_text=True), re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def fail(client, email: str, times: int):
    return [log_in(client, email, WRONG) for _ in range(times)]


LOCKED = (
    "Trop d'échecs de connexion : par sécurité, ce compte est temporairement verrouillé. "
    "Réessayez à partir de 14 h 15, ou demandez à l'équipe d'organisation de le débloquer."
)


def is_logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_lockout_tenth_failure_locks_the_account_with_a_french_message(app, client):
    staff()
    at(app, START)

    answers = fail(client, "orga@example.org", 10)

    assert [r.status_code for r in answers] == [401] * 9 + [429]
    assert BAD_LOGIN in page_text(answers[8])
    assert LOCKED in page_text(answers[9])
    assert answers[9].headers["Retry-After"] == str(15 * 60)
    assert '<html lang="fr">' in answers[9].get_data(as_text=True)


def test_lockout_refuses_the_right_password_while_locked(app, client):
    staff()
    at(app, START)
    fail(client, "orga@example.org", 10)
    at(app, later(14))

    response = log_in(client, "orga@example.org", PASSWORD)

    assert response.status_code == 429
    assert LOCKED in page_text(response)
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert not is_logged_in(client)


def test_lockout_ends_after_fifteen_minutes(app, client):
    staff()
    at(app, START)
    fail(client, "orga@example.org", 10)
    at(app, later(15))

    response = log_in(client, "orga@example.org", PASSWORD)

    assert response.status_code == 302
    assert is_logged_in(client)


def test_lockout_unknown_address_gets_the_same_answers_and_no_account(app, client):
    staff()
    at(app, START)

    known = fail(client, "orga@example.org", 10)
    unknown = fail(client, "personne@example.org", 10)
    unknown_right_password = log_in(client, "personne@example.org", PASSWORD)

    assert [r.status_code for r in unknown] == [r.status_code for r in known] == [401] * 9 + [429]
    assert error_of(unknown[0]) == error_of(known[0]) == BAD_LOGIN
    assert error_of(unknown[9]) == error_of(known[9]) == LOCKED
    assert len(unknown[9].get_data()) - len("personne") == len(known[9].get_data()) - len("orga")  # the same page
    assert unknown[9].headers["Retry-After"] == known[9].headers["Retry-After"]
    assert unknown_right_password.status_code == 429 and LOCKED in page_text(unknown_right_password)
    assert db.session.scalar(db.select(User).filter_by(email="personne@example.org")) is None
    # Nothing typed by a stranger is kept in clear: the counter's key is an HMAC.
    keys = db.session.scalars(db.select(LoginThrottle.email_key)).all()
    assert len(keys) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)


def test_lockout_count_resets_after_a_successful_login(app, client):
    staff()
    at(app, START)
    fail(client, "orga@example.org", 9)
    assert log_in(client, "orga@example.org", PASSWORD).status_code == 302
    client.post("/logout")

    answers = fail(client, "orga@example.org", 9)

    assert [r.status_code for r in answers] == [401] * 9
    assert log_in(client, "orga@example.org", PASSWORD).status_code == 302


def test_lockout_counts_only_failures_within_the_window(app, client):
    staff()
    at(app, START)
    fail(client, "orga@example.org", 9)
    at(app, later(16))

    answers = fail(client, "orga@example.org", 9)

    assert [r.status_code for r in answers] == [401] * 9  # a fresh window: 9 failures, not 18
    assert log_in(client, "orga@example.org", PASSWORD).status_code == 302


def test_lockout_limits_come_from_the_configuration(app, client):
    app.config.update(LOGIN_LOCKOUT_ATTEMPTS=3, LOGIN_LOCKOUT_MINUTES=60)
    staff()
    at(app, START)

    answers = fail(client, "orga@example.org", 3)

    assert [r.status_code for r in answers] == [401, 401, 429]
    assert "Réessayez à partir de 15 h 00" in page_text(answers[2])


def test_lockout_is_written_to_the_log_without_the_password(app, client, caplog):
    staff()
    at(app, START)

    with caplog.at_level(logging.INFO):
        fail(client, "orga@example.org", 10)

    locked = [record.getMessage() for record in caplog.records if "login locked" in record.getMessage()]
    assert len(locked) == 1
    assert "orga@example.org" in locked[0] and "2019-06-06T12:15:00+00:00" in locked[0]
    assert WRONG not in caplog.text


def test_lockout_unlock_command_lets_the_account_in_again(app, client):
    staff()
    at(app, START)
    fail(client, "orga@example.org", 10)

    result = app.test_cli_runner().invoke(args=["users", "unlock", "Orga@Example.org"])

    assert result.exit_code == 0, result.output
    assert "orga@example.org: login unlocked" in result.output
    assert log_in(client, "orga@example.org", PASSWORD).status_code == 302


def test_lockout_unlock_command_on_an_address_without_failures_says_so(app):
    result = app.test_cli_runner().invoke(args=["users", "unlock", "calme@example.org"])

    assert result.exit_code == 0
    assert "nothing to unlock" in result.output


# Concurrency: failures at the same moment on several threads (a SQLite file, or PostgreSQL) --------


class FileConfig(TestConfig):
    LOGIN_LOCKOUT_ATTEMPTS = 1000  # count them all, lock nobody


@pytest.fixture
def file_app(tmp_path):
    url = file_database_url(tmp_path, "lockout.db", suffix="lockout")
    app = create_app({**{k: getattr(FileConfig, k) for k in dir(FileConfig) if k.isupper()}, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        staff()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if ON_POSTGRESQL:
        drop_database(url)


def test_lockout_counts_every_one_of_concurrent_failures(file_app):
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def attempt():
        try:
            client = file_app.test_client()
            barrier.wait(timeout=20)
            statuses.append(log_in(client, "orga@example.org", WRONG).status_code)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert statuses == [401] * threads_count
    with file_app.app_context():
        row = db.session.get(LoginThrottle, lockout.email_key("orga@example.org"))
        assert row.failed_count == threads_count


def test_lockout_concurrent_failures_at_the_limit_lock_the_account(file_app):
    file_app.config["LOGIN_LOCKOUT_ATTEMPTS"] = 5
    threads_count = 5
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []

    def attempt():
        client = file_app.test_client()
        barrier.wait(timeout=20)
        statuses.append(log_in(client, "orga@example.org", WRONG).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [401] * 4 + [429]
    right = log_in(file_app.test_client(), "orga@example.org", PASSWORD)
    assert right.status_code == 429
