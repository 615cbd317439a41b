"""Rapporteur accounts: invitation links, choosing a password, sessions assigned by organisers, "Mes sessions"."""
from __future__ import annotations

import hashlib
import html
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forum_app import create_app, mail
from forum_app.auth.models import EventRole, StaffInvitation, User
from forum_app.auth.services import authenticate
from forum_app.config import TestConfig
from forum_app.errors import InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.notes import rapporteurs
from forum_app.notes.models import RapporteurAssignment
from forum_app.programme.models import Event, Session

DEMO_JSON = Path(__file__).resolve().parent.parent / "forum_app" / "demo_data" / "citescap-programme.json"

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "une phrase de passe"
EXPIRED_MESSAGE = "Ce lien n'est plus valable : demandez-en un nouveau à l'équipe d'organisation."
LINK = re.compile(r"https?://[^\s\"<>]+/invitation/([A-Za-z0-9_-]+)")


# --- helpers ----------------------------------------------------------------------------------------


def _text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _session(event, code) -> Session:
    return db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))


def _outbox(app):
    return mail.memory_outbox(app)


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _token_in(message) -> str:
    match = LINK.search(_body(message))
    assert match, _body(message)
    return match.group(1)


def _admin(event) -> str:
    return f"/e/{event.slug}/admin/rapporteurs"


@pytest.fixture
def organiser(demo_event, make_user):
    return make_user("organiser", demo_event)


@pytest.fixture
def as_organiser(client, login, organiser):
    login(organiser)
    return client


def _invite(client, event, email="marie.rapporteuse@example.org", name="Marie Rapporteuse"):
    return client.post(_admin(event) + "/invite", data={"email": email, "name": name})


def _user(email) -> User:
    return db.session.scalar(db.select(User).filter_by(email=email))


def _invited(app, as_organiser, event, email="marie.rapporteuse@example.org", name="Marie Rapporteuse"):
    """Invite through the organiser's form; the user and the token from the email."""
    response = _invite(as_organiser, event, email, name)
    assert response.status_code == 200, _text(response)
    return _user(email), _token_in(_outbox(app)[-1])


def _accept(client, token, password=NEW_PASSWORD, confirm=None):
    return client.post(f"/invitation/{token}", data={"password": password, "confirm": password if confirm is None else confirm})


def _logged_in_as(client) -> str | None:
    with client.session_transaction() as session:
        user_id = session.get("_user_id")
    return db.session.get(User, int(user_id)).email if user_id else None


def _note():
    return {"client_id": uuid.uuid4().hex, "kind": "key_point", "text": "Le foncier manque.",
            "captured_at": datetime.now(UTC).isoformat()}


# --- pure rules ---------------------------------------------------------------------------------------


NOW = datetime(2019, 6, 6, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("has_password", "expires_at", "used_at", "state"),
    [
        (True, None, None, "active"),
        (False, NOW + timedelta(days=1), NOW, "active"),
        (False, NOW + timedelta(seconds=1), None, "sent"),
        (False, NOW, None, "expired"),
        (False, None, None, "not_invited"),
        (True, NOW - timedelta(days=1), None, "active"),
    ],
)
def test_invitation_state_names_what_the_organiser_sees(has_password, expires_at, used_at, state):
    assert rapporteurs.invitation_state(has_password, expires_at, used_at, NOW) == state


def test_link_may_be_shown_only_for_an_account_that_is_the_organisers_alone():
    assert rapporteurs.link_may_be_shown(False, set(), 1)
    assert rapporteurs.link_may_be_shown(False, {1}, 1)
    assert not rapporteurs.link_may_be_shown(True, {1}, 1)  # an account with a password
    assert not rapporteurs.link_may_be_shown(False, {1, 2}, 1)  # someone else's rapporteur too
    assert not rapporteurs.link_may_be_shown(False, set(), 1, is_admin=True)  # a site administrator


# --- invitation ----------------------------------------------------------------------------------------


def test_invite_creates_an_account_without_password_and_emails_the_link_in_french(app, as_organiser, demo_event):
    response = _invite(as_organiser, demo_event)

    user = _user("marie.rapporteuse@example.org")
    assert response.status_code == 200
    assert (user.name, user.password_hash, user.role_at(demo_event.id)) == ("Marie Rapporteuse", "", "rapporteur")
    [message] = _outbox(app)
    assert message["Subject"] == f"Votre accès rapporteur·e — {demo_event.title}"
    assert "marie.rapporteuse@example.org" in message["To"]
    body = _body(message)
    assert "Bonjour Marie Rapporteuse," in body and "Choisir mon mot de passe" in body
    assert "valable 7 jours" in body
    token = _token_in(message)
    assert f"/invitation/{token}" in message.get_body(preferencelist=("html",)).get_content()


def test_invite_shows_the_link_once_on_the_confirmation_page_with_a_copy_button(app, as_organiser, demo_event):
    response = _invite(as_organiser, demo_event)

    token = _token_in(_outbox(app)[-1])
    page = response.get_data(as_text=True)
    assert f"/invitation/{token}" in page
    assert "data-copy=\"invitation-url\"" in page and "Copier le lien" in page
    assert "Invitation envoyée" in _text(response)
    assert f"/invitation/{token}" not in as_organiser.get(_admin(demo_event)).get_data(as_text=True)


def test_invite_stores_only_the_sha256_of_the_token_valid_seven_days(app, as_organiser, demo_event):
    app.config["FORUM_NOW"] = "2019-06-01T10:00:00+02:00"
    user, token = _invited(app, as_organiser, demo_event)

    [invitation] = db.session.scalars(db.select(StaffInvitation).filter_by(user_id=user.id))
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert invitation.event_id == demo_event.id and invitation.used_at is None


def test_invite_with_a_bad_email_or_no_name_shows_the_form_again(app, as_organiser, demo_event):
    no_name = _invite(as_organiser, demo_event, name="   ")
    bad_email = _invite(as_organiser, demo_event, email="pas-une-adresse")

    assert no_name.status_code == 422 and "Ce champ est obligatoire." in _text(no_name)
    assert bad_email.status_code == 422 and "Adresse e-mail invalide." in _text(bad_email)
    assert db.session.scalar(db.select(db.func.count(StaffInvitation.id))) == 0
    assert _outbox(app) == []


def test_invitation_page_lets_the_person_choose_a_password_then_log_in(app, client, as_organiser, demo_event):
    user, token = _invited(app, as_organiser, demo_event)
    as_organiser.post("/logout")

    page = client.get(f"/invitation/{token}")
    answer = _accept(client, token)

    assert page.status_code == 200 and "Choisir votre mot de passe" in _text(page)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/admin/")
    assert _logged_in_as(client) == "marie.rapporteuse@example.org"
    home = client.get("/admin/")
    assert "Votre mot de passe est enregistré. Bienvenue, Marie Rapporteuse." in _text(home)
    assert "Mes sessions" in _text(home)
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302
    assert db.session.scalar(db.select(StaffInvitation.used_at).filter_by(user_id=user.id)) is not None


def test_invitation_page_sends_no_referrer_and_is_never_cached(app, client, as_organiser, demo_event):
    _, token = _invited(app, as_organiser, demo_event)

    for response in (client.get(f"/invitation/{token}"), _accept(client, token, "court"), client.get("/invitation/inconnu")):
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("court", "court", "Le mot de passe doit compter entre 10 et 1000 caractères."),
        ("une phrase de passe", "une phrase de pass", "Les deux mots de passe ne sont pas identiques."),
        ("", "", "Ce champ est obligatoire."),
    ],
    ids=["too-short", "mismatch", "empty"],
)
def test_invitation_refuses_a_weak_or_mismatched_password_and_the_link_still_works(app, client, as_organiser, demo_event, password, confirm, message):
    user, token = _invited(app, as_organiser, demo_event)
    client = app.test_client()

    refused = _accept(client, token, password, confirm)

    assert refused.status_code == 422
    assert message in _text(refused)
    assert password not in re.findall(r'value="([^"]*)"', refused.get_data(as_text=True)) or password == ""
    db.session.refresh(user)
    assert user.password_hash == "" and _logged_in_as(client) is None
    assert _accept(client, token).status_code == 302


def test_invitation_used_once_cannot_be_used_again(app, as_organiser, demo_event):
    user, token = _invited(app, as_organiser, demo_event)
    first = app.test_client()
    _accept(first, token)

    second = app.test_client()
    page = second.get(f"/invitation/{token}")
    again = _accept(second, token, "un autre mot de passe")

    assert page.status_code == 404 and EXPIRED_MESSAGE in _text(page)
    assert again.status_code == 404 and EXPIRED_MESSAGE in _text(again)
    assert _logged_in_as(second) is None
    assert authenticate(user.email, NEW_PASSWORD) is not None
    assert authenticate(user.email, "un autre mot de passe") is None


def test_invitation_expires_after_seven_days(app, client, as_organiser, demo_event):
    app.config["FORUM_NOW"] = "2019-06-01T10:00:00+02:00"
    user, token = _invited(app, as_organiser, demo_event)

    app.config["FORUM_NOW"] = "2019-06-08T09:59:00+02:00"
    still = client.get(f"/invitation/{token}")
    app.config["FORUM_NOW"] = "2019-06-08T10:00:00+02:00"
    expired = client.get(f"/invitation/{token}")
    refused = _accept(client, token)

    assert still.status_code == 200
    assert expired.status_code == 404 and EXPIRED_MESSAGE in _text(expired)
    assert refused.status_code == 404 and EXPIRED_MESSAGE in _text(refused)
    db.session.refresh(user)
    assert user.password_hash == ""


@pytest.mark.parametrize(
    "token",
    ["inconnu", "A" * 43, "x" * 5000, "a.b", "%00", "Ω" * 40, "a/b", "a%2Fb/c/"],
    ids=["short", "well-formed", "huge", "dot", "nul", "unicode", "slash", "encoded-slash"],
)
def test_unknown_token_gets_the_same_clear_page_never_a_500(client, demo_event, token):
    page = client.get(f"/invitation/{token}")
    posted = client.post(f"/invitation/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    for response in (page, posted):
        assert response.status_code == 404, response.status_code
        assert EXPIRED_MESSAGE in _text(response)


def test_invitation_link_with_a_trailing_slash_still_works(app, client, as_organiser, demo_event):
    _, token = _invited(app, as_organiser, demo_event)

    assert client.get(f"/invitation/{token}/").status_code == 200
    assert _accept(client, token + "/").status_code == 302


def test_accepting_an_invitation_never_logs_the_token(app, client, as_organiser, demo_event, caplog):
    _, token = _invited(app, as_organiser, demo_event)

    with caplog.at_level(logging.DEBUG):
        client.get(f"/invitation/{token}")
        _accept(client, token, "court")
        _accept(client, token)
        client.get(f"/invitation/{token}")

    assert token not in caplog.text


# --- accounts without a password ---------------------------------------------------------------------


@pytest.mark.parametrize("password", ["", " ", "pbkdf2:sha256:1$$", NEW_PASSWORD])
def test_account_without_password_cannot_log_in(app, client, as_organiser, demo_event, password):
    user, _ = _invited(app, as_organiser, demo_event)
    client = app.test_client()

    response = client.post("/login", data={"email": user.email, "password": password})

    assert response.status_code in (401, 422)
    assert _logged_in_as(client) is None
    assert user.check_password(password) is False


# --- inviting an existing account, resending ----------------------------------------------------------


def test_existing_staff_account_gets_the_role_and_a_link_by_email_only(app, as_organiser, demo_event, make_user):
    other = Event(slug="autre", title="Autre forum", start_date=demo_event.start_date, end_date=demo_event.end_date)
    db.session.add(other)
    db.session.commit()
    existing = make_user("rapporteur", other)
    name_before = existing.name
    users_before = db.session.scalar(db.select(db.func.count(User.id)))

    response = _invite(as_organiser, demo_event, email=existing.email.upper(), name="Autre nom")

    db.session.refresh(existing)
    assert response.status_code == 200
    assert db.session.scalar(db.select(db.func.count(User.id))) == users_before
    assert existing.role_at(demo_event.id) == "rapporteur" and existing.role_at(other.id) == "rapporteur"
    assert existing.name == name_before  # someone else's account: its name is not changed
    token = _token_in(_outbox(app)[-1])
    assert token not in response.get_data(as_text=True)  # the organiser cannot set this account's password
    assert "le lien n'est envoyé qu'à son adresse e-mail" in _text(response)
    assert authenticate(existing.email, PASSWORD) is not None  # the old password still works


def test_inviting_an_organiser_or_a_volunteer_of_the_event_is_refused(app, as_organiser, demo_event, make_user, organiser):
    volunteer = make_user("volunteer", demo_event)

    as_organiser_again = _invite(as_organiser, demo_event, email=organiser.email)
    as_volunteer = _invite(as_organiser, demo_event, email=volunteer.email)

    assert as_organiser_again.status_code == 422 and "fait déjà partie de l'équipe d'organisation" in _text(as_organiser_again)
    assert as_volunteer.status_code == 422 and "déjà bénévole d'accueil" in _text(as_volunteer)
    db.session.refresh(organiser)
    db.session.refresh(volunteer)
    assert (organiser.role_at(demo_event.id), volunteer.role_at(demo_event.id)) == ("organiser", "volunteer")
    assert _outbox(app) == []


def test_inviting_the_same_address_twice_makes_one_account_and_only_the_new_link_works(app, as_organiser, demo_event):
    user, first = _invited(app, as_organiser, demo_event)
    again, second = _invited(app, as_organiser, demo_event)

    assert again.id == user.id
    assert db.session.scalar(db.select(db.func.count(EventRole.id)).filter_by(user_id=user.id)) == 1
    client = app.test_client()
    assert client.get(f"/invitation/{first}").status_code == 404
    assert client.get(f"/invitation/{second}").status_code == 200


def test_resend_makes_the_previous_link_unusable(app, as_organiser, demo_event):
    user, old = _invited(app, as_organiser, demo_event)

    response = as_organiser.post(f"{_admin(demo_event)}/{user.id}/resend")

    new = _token_in(_outbox(app)[-1])
    assert response.status_code == 200 and new != old
    assert "Le lien envoyé précédemment ne fonctionne plus." in _text(response)
    assert f"/invitation/{new}" in response.get_data(as_text=True)
    client = app.test_client()
    assert _accept(client, old).status_code == 404
    assert _accept(client, new).status_code == 302


def test_resend_for_someone_who_is_not_a_rapporteur_here_is_not_found(as_organiser, demo_event, organiser):
    response = as_organiser.post(f"{_admin(demo_event)}/{organiser.id}/resend")

    assert response.status_code == 404


# --- the organisers' list -------------------------------------------------------------------------------


def test_list_shows_each_invitation_state(app, as_organiser, demo_event):
    app.config["FORUM_NOW"] = "2019-05-20T09:00:00+02:00"
    _invited(app, as_organiser, demo_event, "expire@example.org", "Émile Expiré")
    app.config["FORUM_NOW"] = "2019-06-03T14:15:00+02:00"
    _, token = _invited(app, as_organiser, demo_event, "active@example.org", "Anne Activée")
    _accept(app.test_client(), token)
    _invited(app, as_organiser, demo_event, "sent@example.org", "Sam Envoyé")

    text = _text(as_organiser.get(_admin(demo_event)))

    assert re.search(r"Anne Activée active@example.org Compte activé", text)
    assert re.search(r"Sam Envoyé sent@example.org Invitation envoyée le lundi 3 juin à 14 h 15 \(lien valable jusqu'au lundi 10 juin\)", text)
    assert re.search(r"Émile Expiré expire@example.org Lien expiré : renvoyez une invitation.", text)
    assert text.index("Anne Activée") < text.index("Émile Expiré") < text.index("Sam Envoyé")


def test_list_offers_every_session_but_breaks_lunch_and_the_welcome_after_a_placeholder(app, as_organiser, demo_event):
    _invited(app, as_organiser, demo_event)

    page = as_organiser.get(_admin(demo_event)).get_data(as_text=True)

    options = re.findall(r"<option([^>]*)>([^<]+)</option>", page)
    reported = [s for s in demo_event.sessions if s.kind not in ("break", "lunch", "reception")]
    assert options[0] == (' selected value=""', "Choisir une session…")
    assert len(options) == 1 + len(reported) == 13
    assert not any("Déjeuner" in label or "Accueil des participants" in label for _, label in options)
    assert any(label.startswith("A1 — ") for _, label in options)


def test_admin_nav_has_a_rapporteurs_entry(as_organiser, demo_event):
    page = as_organiser.get(f"/e/{demo_event.slug}/admin/").get_data(as_text=True)

    assert f'href="/e/{demo_event.slug}/admin/rapporteurs"' in page and ">Rapporteurs<" in page


# --- assignments ----------------------------------------------------------------------------------------


def test_assigned_rapporteur_can_post_a_note_and_cannot_once_unassigned(app, as_organiser, demo_event):
    user, token = _invited(app, as_organiser, demo_event)
    session = _session(demo_event, "A1")
    rapporteur = app.test_client()
    _accept(rapporteur, token)
    notes_url = f"/api/v1/e/{demo_event.slug}/s/A1/notes"

    before = rapporteur.post(notes_url, json=_note())
    assigned = as_organiser.post(f"{_admin(demo_event)}/{user.id}/sessions", data={f"r{user.id}-session_id": session.id})
    allowed = rapporteur.post(notes_url, json=_note())
    other = rapporteur.post(f"/api/v1/e/{demo_event.slug}/s/A2/notes", json=_note())
    unassigned = as_organiser.post(f"{_admin(demo_event)}/{user.id}/sessions/{session.id}/remove")
    after = rapporteur.post(notes_url, json=_note())

    assert before.status_code == 403
    assert assigned.status_code == 302 and assigned.headers["Location"].endswith(f"#rapporteur-{user.id}")
    assert allowed.status_code == 201
    assert other.status_code == 403
    assert unassigned.status_code == 302
    assert after.status_code == 403


def test_assign_says_what_it_did_and_the_list_shows_the_session(app, as_organiser, demo_event):
    user, _ = _invited(app, as_organiser, demo_event)
    session = _session(demo_event, "A1")
    url = f"{_admin(demo_event)}/{user.id}/sessions"

    first = as_organiser.post(url, data={f"r{user.id}-session_id": session.id}, follow_redirects=True)
    second = as_organiser.post(url, data={f"r{user.id}-session_id": session.id}, follow_redirects=True)

    assert "Marie Rapporteuse rapporte désormais la session A1." in _text(first)
    assert "Marie Rapporteuse rapportait déjà la session A1." in _text(second)
    assert re.search(r"A1 Atelier 1 — Immobilier d'entreprise en QPV Jeudi 6 juin · 11 h 30 – \d+ h \d\d · Salle Vilaine", _text(second))
    assert db.session.scalar(db.select(db.func.count(RapporteurAssignment.id))) == 1


def test_assigning_a_break_an_unknown_session_or_nothing_is_refused(app, as_organiser, demo_event):
    user, _ = _invited(app, as_organiser, demo_event)
    lunch = next(s for s in demo_event.sessions if s.kind == "lunch")
    welcome = next(s for s in demo_event.sessions if s.kind == "reception")
    url = f"{_admin(demo_event)}/{user.id}/sessions"

    refused = [as_organiser.post(url, data={f"r{user.id}-session_id": value}, follow_redirects=True)
               for value in (lunch.id, welcome.id, 999_999, "", "abc")]

    for response in refused:
        assert response.status_code == 200
        assert "Choisissez une session dans la liste." in _text(response)
    assert db.session.scalar(db.select(db.func.count(RapporteurAssignment.id))) == 0


def test_assign_service_refuses_a_break_and_a_session_of_another_event(app, as_organiser, demo_event):
    user, _ = _invited(app, as_organiser, demo_event)
    other = Event(slug="autre", title="Autre forum", start_date=demo_event.start_date, end_date=demo_event.end_date)
    db.session.add(other)
    db.session.flush()
    elsewhere = Session(event_id=other.id, code="Z1", title="Ailleurs", kind="workshop",
                        starts_at=datetime(2019, 6, 6, 9, tzinfo=UTC), ends_at=datetime(2019, 6, 6, 10, tzinfo=UTC))
    db.session.add(elsewhere)
    db.session.commit()
    lunch = next(s for s in demo_event.sessions if s.kind == "lunch")

    with pytest.raises(InvalidInput, match="pas un temps de débat"):
        rapporteurs.assign(demo_event, user.id, lunch.id)
    with pytest.raises(NotFound):
        rapporteurs.assign(demo_event, user.id, elsewhere.id)
    with pytest.raises(NotFound):
        rapporteurs.assign(other, user.id, elsewhere.id)  # not a rapporteur there


def test_remove_role_asks_first_then_takes_sessions_and_write_access_away(app, as_organiser, demo_event):
    user, token = _invited(app, as_organiser, demo_event)
    rapporteur = app.test_client()
    _accept(rapporteur, token)
    as_organiser.post(f"{_admin(demo_event)}/{user.id}/sessions", data={f"r{user.id}-session_id": _session(demo_event, "A1").id})

    asked = as_organiser.get(f"{_admin(demo_event)}/{user.id}/remove")
    removed = as_organiser.post(f"{_admin(demo_event)}/{user.id}/remove", follow_redirects=True)

    assert "Sa session lui sera retirée : A1." in _text(asked)
    assert "Marie Rapporteuse n'est plus rapporteur·e de cet événement." in _text(removed)
    db.session.refresh(user)
    assert user.role_at(demo_event.id) is None
    assert db.session.scalar(db.select(db.func.count(RapporteurAssignment.id))) == 0
    assert rapporteur.post(f"/api/v1/e/{demo_event.slug}/s/A1/notes", json=_note()).status_code == 403
    assert "Marie Rapporteuse" not in _text(as_organiser.get(_admin(demo_event)))


def test_remove_role_makes_an_unused_link_unusable(app, as_organiser, demo_event):
    user, token = _invited(app, as_organiser, demo_event)

    as_organiser.post(f"{_admin(demo_event)}/{user.id}/remove")

    assert app.test_client().get(f"/invitation/{token}").status_code == 404


def test_session_edit_page_shows_who_reports_on_it(app, as_organiser, demo_event):
    user, _ = _invited(app, as_organiser, demo_event)
    session = _session(demo_event, "A1")
    empty = _text(as_organiser.get(f"/e/{demo_event.slug}/admin/sessions/{session.id}"))
    as_organiser.post(f"{_admin(demo_event)}/{user.id}/sessions", data={f"r{user.id}-session_id": session.id})

    page = _text(as_organiser.get(f"/e/{demo_event.slug}/admin/sessions/{session.id}"))

    assert "Personne ne rapporte encore cette session." in empty
    assert "Rapporteurs de la session Marie Rapporteuse marie.rapporteuse@example.org" in page


# --- "Mes sessions" -------------------------------------------------------------------------------------


def test_rapporteur_home_lists_their_sessions_with_a_link_to_the_capture_page(app, as_organiser, demo_event):
    user, token = _invited(app, as_organiser, demo_event)
    for code in ("A5", "A1"):
        as_organiser.post(f"{_admin(demo_event)}/{user.id}/sessions", data={f"r{user.id}-session_id": _session(demo_event, code).id})
    rapporteur = app.test_client()
    _accept(rapporteur, token)

    response = rapporteur.get("/admin/")

    text = _text(response)
    assert re.search(r"Mes sessions A1 Atelier 1 — Immobilier d'entreprise en QPV Jeudi 6 juin · 11 h 30 – \d+ h \d\d · Salle Vilaine", text)
    assert text.index("A1 Atelier 1") < text.index("A5 Atelier 5")
    page = response.get_data(as_text=True)
    assert f'href="/e/{demo_event.slug}/notes/A1"' in page and f'href="/e/{demo_event.slug}/notes/A5"' in page
    assert "Gérer le programme" not in text


def test_rapporteur_without_a_session_is_told_so(app, as_organiser, demo_event):
    _, token = _invited(app, as_organiser, demo_event)
    rapporteur = app.test_client()
    _accept(rapporteur, token)

    text = _text(rapporteur.get("/admin/"))

    assert "Aucune session ne vous est encore confiée pour cet événement." in text


# --- who may reach the organisers' page ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["anonymous", "volunteer", "rapporteur", "nobody"])
def test_rapporteurs_page_is_for_organisers_only(app, client, demo_event, make_user, login, role):
    if role != "anonymous":
        login(make_user(None if role == "nobody" else role, demo_event))

    page = client.get(_admin(demo_event))
    invite = _invite(client, demo_event)

    if role == "anonymous":
        assert page.status_code == 302 and "/login" in page.headers["Location"]
        assert invite.status_code == 302
    else:
        assert (page.status_code, invite.status_code) == (403, 403)
    assert _user("marie.rapporteuse@example.org") is None


# --- CSRF and rate limit on the invitation page -----------------------------------------------------------


class CSRFConfig(TestConfig):
    WTF_CSRF_ENABLED = True


class LimitedConfig(TestConfig):
    RATELIMIT_ENABLED = True


@pytest.fixture
def other_app(request):
    app = create_app(request.param)
    with app.app_context():
        db.create_all()
        from forum_app.programme import imports

        event = imports.import_schedule_file(DEMO_JSON).event
        yield app, event
        db.session.remove()
        db.drop_all()


def _invite_directly(event) -> str:
    invitation = rapporteurs.invite(event, "direct@example.org", "Invitée directe")
    return LINK.search(invitation.url).group(1)


@pytest.mark.parametrize("other_app", [CSRFConfig], indirect=True)
def test_invitation_post_needs_the_csrf_token_of_the_page(other_app):
    app, event = other_app
    token = _invite_directly(event)
    client = app.test_client()

    forged = _accept(client, token)
    page = client.get(f"/invitation/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    real = client.post(f"/invitation/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf})

    assert forged.status_code == 400 and "Le formulaire a expiré ou n'est pas valide" in _text(forged)
    assert forged.headers["Referrer-Policy"] == "no-referrer"
    assert real.status_code == 302


@pytest.mark.parametrize("other_app", [LimitedConfig], indirect=True)
def test_invitation_posts_are_rate_limited_like_the_login(other_app):
    app, event = other_app
    token = _invite_directly(event)
    client = app.test_client()

    answers = [_accept(client, "mauvais-jeton-" + "x" * 20).status_code for _ in range(10)]
    blocked = _accept(client, token)

    assert answers == [404] * 10
    assert blocked.status_code == 429
    assert "Trop de tentatives. Patientez une minute avant de réessayer." in _text(blocked)
    assert blocked.headers["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/invitation/{token}").status_code == 200  # reading the page is not limited
