"""Staff login and logout: messages in French, no open redirect, CSRF, rate limit, `flask users create`."""
from __future__ import annotations

import html
import re
from datetime import date

import pytest
from werkzeug.security import generate_password_hash

from forum_app import create_app
from forum_app.auth.models import EventRole, User
from forum_app.auth.services import safe_next_path
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.programme.models import Event

PASSWORD = "correct-horse-battery"
BAD_LOGIN = "Adresse e-mail ou mot de passe incorrect."


def make_event(slug: str = "forum", title: str = "Forum test") -> Event:
    event = Event(slug=slug, title=title, start_date=date(2019, 6, 6), end_date=date(2019, 6, 7))
    db.session.add(event)
    db.session.commit()
    return event


def staff_user(email: str, role: str | None = None, event: Event | None = None, *, admin: bool = False, active: bool = True):
    """A staff account with a cheap hash (the real hashing is exercised by the CLI test)."""
    user = User(email=email, name="Camille", password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1"))
    user.is_admin, user.active = admin, active
    if role:
        user.roles.append(EventRole(event_id=event.id, role=role))
    db.session.add(user)
    db.session.commit()
    return user


def log_in(client, email: str, password: str = PASSWORD, **query):
    return client.post("/login", query_string=query, data={"email": email, "password": password})


def is_logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


# Login page --------------------------------------------------------------------------------------


def test_login_page_is_in_french_with_labelled_fields(client):
    response = client.get("/login")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr">' in page
    assert "Connexion de l" in page
    assert re.search(r'<label for="email">Adresse e-mail</label>', page)
    assert re.search(r'<label for="password">Mot de passe</label>', page)
    assert 'autocomplete="current-password"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_login_organiser_of_one_event_lands_on_its_programme_screen(client, app):
    event = make_event()
    staff_user("orga@example.org", "organiser", event)

    response = log_in(client, "ORGA@example.org ")

    assert response.status_code == 302
    assert response.headers["Location"] == "/e/forum/admin/"
    assert client.get("/e/forum/admin/").status_code == 200


def test_login_volunteer_lands_on_the_list_of_their_events(client, app):
    event = make_event()
    staff_user("benevole@example.org", "volunteer", event)

    response = log_in(client, "benevole@example.org")

    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "Forum test" in page and "Bénévole (accueil)" in page
    assert "Gérer le programme" not in page


def test_login_site_admin_sees_every_event(client, app):
    make_event("forum", "Forum test")
    make_event("autre", "Autre forum")
    staff_user("admin@example.org", admin=True)

    response = log_in(client, "admin@example.org")

    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "Forum test" in page and "Autre forum" in page
    assert page.count("Gérer le programme") == 2


def test_login_user_without_role_is_told_so(client, app):
    staff_user("nobody@example.org")

    log_in(client, "nobody@example.org")

    page = html.unescape(client.get("/admin/").get_data(as_text=True))
    assert "Votre compte n'a encore de rôle dans aucun événement." in page


@pytest.mark.parametrize(("email", "password"), [("orga@example.org", "wrong-password"), ("ghost@example.org", PASSWORD)])
def test_login_wrong_password_and_unknown_email_get_the_same_answer(client, app, email, password):
    staff_user("orga@example.org", "organiser", make_event())

    response = log_in(client, email, password)

    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert BAD_LOGIN in page
    assert PASSWORD not in page and "wrong-password" not in page  # the password is never echoed
    assert not is_logged_in(client)


def test_login_inactive_account_is_refused(client, app):
    staff_user("ancien@example.org", "organiser", make_event(), active=False)

    response = log_in(client, "ancien@example.org")

    assert response.status_code == 401 and BAD_LOGIN in response.get_data(as_text=True)


def test_login_empty_form_shows_french_errors(client, app):
    response = client.post("/login", data={"email": "", "password": ""})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" id="email-error">Ce champ est obligatoire.</p>' in page
    assert '<p class="error" id="password-error">Ce champ est obligatoire.</p>' in page
    assert "Le formulaire contient 2 erreurs" in page


def test_login_refuses_over_long_input_cleanly(client, app):
    response = client.post("/login", data={"email": "a" * 400 + "@example.org", "password": PASSWORD})

    assert response.status_code == 422
    assert "320 caractères au maximum." in response.get_data(as_text=True)


def test_admin_page_sends_anonymous_visitors_to_login_and_back(client, app):
    make_event()
    staff_user("orga@example.org", "organiser", make_event("autre"))  # organiser elsewhere
    admin = staff_user("admin@example.org", admin=True)

    response = client.get("/e/forum/admin/rooms")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")

    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="/e/forum/admin/rooms"' in login_page  # carried by the form
    assert "Connectez-vous pour accéder à cette page." in login_page

    back = client.post("/login", data={"email": admin.email, "password": PASSWORD, "next": "/e/forum/admin/rooms"})
    assert back.headers["Location"] == "/e/forum/admin/rooms"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\t/evil.example",
        "evil.example",
    ],
)
def test_login_next_never_leaves_the_site(client, app, target):
    staff_user("orga@example.org", "organiser", make_event())

    in_query = log_in(client, "orga@example.org", next=target)
    client.post("/logout")
    in_form = client.post("/login", data={"email": "orga@example.org", "password": PASSWORD, "next": target})

    assert in_query.headers["Location"] == "/e/forum/admin/"
    assert in_form.headers["Location"] == "/e/forum/admin/"


def test_safe_next_path_keeps_local_paths_with_query():
    assert safe_next_path("/e/forum/admin/?day=2019-06-06") == "/e/forum/admin/?day=2019-06-06"
    assert safe_next_path("") is None and safe_next_path(None) is None


def test_login_page_when_already_logged_in_goes_to_the_landing_page(client, app):
    staff_user("orga@example.org", "organiser", make_event())
    log_in(client, "orga@example.org")

    response = client.get("/login")

    assert response.status_code == 302 and response.headers["Location"] == "/e/forum/admin/"


# Logout ------------------------------------------------------------------------------------------


def test_logout_requires_post(client, app):
    staff_user("orga@example.org", "organiser", make_event())
    log_in(client, "orga@example.org")

    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)

    response = client.post("/logout")

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Vous êtes déconnecté·e." in client.get("/login").get_data(as_text=True)
    assert not is_logged_in(client)


def test_admin_screens_offer_a_logout_form_not_a_link(client, app):
    staff_user("orga@example.org", "organiser", make_event())
    log_in(client, "orga@example.org")

    page = client.get("/e/forum/admin/").get_data(as_text=True)

    assert re.search(r'<form class="admin-logout" method="post" action="/logout">\s*<input type="hidden" name="csrf_token"', page)
    assert 'href="/logout"' not in page


# CSRF and rate limit (apps built with the protections on) ----------------------------------------


class CSRFConfig(TestConfig):
    WTF_CSRF_ENABLED = True


class LimitedConfig(TestConfig):
    RATELIMIT_ENABLED = True


@pytest.fixture
def csrf_app():
    app = create_app(CSRFConfig)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


def test_csrf_rejects_a_login_post_without_token(csrf_app):
    client = csrf_app.test_client()
    staff_user("orga@example.org", "organiser", make_event())

    response = log_in(client, "orga@example.org")

    assert response.status_code == 400
    assert "Le formulaire a expiré ou n'est pas valide" in html.unescape(response.get_data(as_text=True))
    assert not is_logged_in(client)


def test_csrf_login_with_the_token_from_the_page_works(csrf_app):
    client = csrf_app.test_client()
    staff_user("orga@example.org", "organiser", make_event())
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)

    response = client.post("/login", data={"email": "orga@example.org", "password": PASSWORD, "csrf_token": token})

    assert response.status_code == 302 and is_logged_in(client)


def test_csrf_rejects_logout_and_admin_posts_without_token(csrf_app):
    client = csrf_app.test_client()
    event = make_event()
    staff_user("orga@example.org", "organiser", event)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "orga@example.org", "password": PASSWORD, "csrf_token": token})

    logout = client.post("/logout")
    create = client.post("/e/forum/admin/rooms/new", data={"name": "Salle pirate"})

    assert logout.status_code == 400 and is_logged_in(client)
    assert create.status_code == 400
    assert "Le formulaire a expiré : rien n'a été enregistré." in html.unescape(create.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Event, event.id).rooms == []


def test_login_rate_limit_stops_the_eleventh_attempt_in_a_minute():
    app = create_app(LimitedConfig)
    with app.app_context():
        db.create_all()
        try:
            client = app.test_client()
            staff_user("orga@example.org", "organiser", make_event())
            # Ten addresses: one address would lock itself at its tenth failure (test_login_lockout.py).
            answers = [log_in(client, f"intrus{n}@example.org", "wrong-password").status_code for n in range(10)]

            blocked = log_in(client, "orga@example.org")

            assert answers == [401] * 10
            assert blocked.status_code == 429
            assert "Trop de tentatives de connexion" in blocked.get_data(as_text=True)
            assert client.get("/login").status_code == 200  # reading the page is not limited
            assert not is_logged_in(client)
        finally:
            db.session.remove()
            db.drop_all()


def test_login_rate_limit_does_not_count_successful_logins():
    app = create_app(LimitedConfig)
    with app.app_context():
        db.create_all()
        try:
            staff_user("orga@example.org", "organiser", make_event())
            answers = []
            for _ in range(12):  # a whole team behind the venue's one IP address
                client = app.test_client()
                answers.append(log_in(client, "orga@example.org").status_code)

            assert answers == [302] * 12
        finally:
            db.session.remove()
            db.drop_all()


# `flask users create` ----------------------------------------------------------------------------


def test_cli_users_create_with_password_makes_an_account_that_can_log_in(app, client):
    make_event()

    result = app.test_cli_runner().invoke(
        args=["users", "create", "Nouvelle@Example.org", "--event", "forum", "--role", "organiser", "--password", "un-mot-de-passe-long"]
    )

    assert result.exit_code == 0, result.output
    assert "nouvelle@example.org" in result.output
    response = log_in(client, "nouvelle@example.org", "un-mot-de-passe-long")
    assert response.headers["Location"] == "/e/forum/admin/"


def test_cli_users_create_with_a_too_short_password_fails_clearly(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "court@example.org", "--password", "court"])

    assert result.exit_code != 0
    assert "Le mot de passe doit compter au moins 10 caractères." in result.output
    assert db.session.scalar(db.select(User).filter_by(email="court@example.org")) is None
