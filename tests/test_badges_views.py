"""Badge pages over HTTP: the attendee's own badge behind their private link, the public keys for
stations, and the organiser's sheets, printed marks and reissue."""
from __future__ import annotations

import base64
import re
import secrets
from datetime import date

import pypdfium2 as pdfium
import pytest
import zxingcpp

from forum_app import create_app
from forum_app.badges import domain, services
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.programme.models import Event
from forum_app.registration.models import Delegation, Registration


def _register(event, first="Élodie", last="Dupont-Moreau", *, status="confirmed", **fields):
    email = f"{secrets.token_hex(4)}@example.org"
    registration = Registration(
        event_id=event.id,
        first_name=first,
        last_name=last,
        email=email,
        email_key=email.lower(),
        organisation=fields.pop("organisation", "Ville de Roubaix"),
        job_title="Chargée de mission",
        category=fields.pop("category", "collectivite"),
        status=status,
        access_token=secrets.token_urlsafe(32),
        **fields,
    )
    db.session.add(registration)
    db.session.commit()
    return registration


def _codes(pdf: bytes) -> list[list[str]]:
    """The QR texts of each page."""
    document = pdfium.PdfDocument(pdf)
    return [[r.text for r in zxingcpp.read_barcodes(page.render(scale=150 / 72).to_pil())] for page in document]


def _registration_ids(event, pdf: bytes) -> list[list[int]]:
    keys = services.public_keys(event)
    return [sorted(domain.read_badge(code, keys).registration_id for code in page) for page in _codes(pdf)]


@pytest.fixture
def organiser_client(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))
    return client


# --- The attendee's badge ---


def test_attendee_downloads_their_own_badge(client, demo_event):
    person = _register(demo_event)

    response = client.get(f"/e/{demo_event.slug}/me/{person.access_token}/badge.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "private" in response.headers["Cache-Control"] and "no-store" in response.headers["Cache-Control"]
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert _registration_ids(demo_event, response.data) == [[person.id]]


def test_pending_attendee_gets_a_badge_that_reads_not_confirmed(client, demo_event):
    person = _register(demo_event, status="pending")

    response = client.get(f"/e/{demo_event.slug}/me/{person.access_token}/badge.pdf")

    assert response.status_code == 200
    assert services.verify(demo_event, _codes(response.data)[0][0]) == ("not_confirmed", person)


def test_wrong_or_altered_token_is_a_404_that_says_nothing(client, demo_event):
    person = _register(demo_event, "Zacharie", "Quelqu'un")
    altered = person.access_token[:-1] + ("A" if person.access_token[-1] != "A" else "B")

    stranger_token = secrets.token_urlsafe(32)
    unknown = client.get(f"/e/{demo_event.slug}/me/{stranger_token}/badge.pdf")
    changed = client.get(f"/e/{demo_event.slug}/me/{altered}/badge.pdf")

    assert unknown.status_code == changed.status_code == 404
    assert unknown.data.replace(stranger_token.encode(), b"TOKEN") == changed.data.replace(altered.encode(), b"TOKEN")
    assert b"Zacharie" not in changed.data and b"%PDF" not in changed.data


def test_token_of_another_event_is_a_404(client, demo_event):
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2020, 1, 1), end_date=date(2020, 1, 1))
    db.session.add(other)
    db.session.commit()
    stranger = _register(other)

    assert client.get(f"/e/{demo_event.slug}/me/{stranger.access_token}/badge.pdf").status_code == 404
    assert client.get(f"/e/{other.slug}/me/{stranger.access_token}/badge.pdf").status_code == 200


@pytest.mark.parametrize("status", ["cancelled", "rejected"])
def test_cancelled_registration_gets_a_clear_404_instead_of_a_badge(client, demo_event, status):
    person = _register(demo_event, status=status)

    response = client.get(f"/e/{demo_event.slug}/me/{person.access_token}/badge.pdf")

    assert response.status_code == 404
    assert "n'est plus valable" in response.get_data(as_text=True).replace("&#39;", "'")


# --- Public keys for stations ---


def test_badge_keys_are_public_and_verify_a_badge(client, demo_event):
    person = _register(demo_event)
    text = services.badge_payload(person)

    response = client.get(f"/e/{demo_event.slug}/badge-keys.json")

    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    document = response.get_json()
    assert document["algorithm"] == "Ed25519" and document["event"]["id"] == demo_event.id
    keys = {key["key_id"]: base64.b64decode(key["public_key"]) for key in document["keys"]}
    assert domain.read_badge(text, keys).registration_id == person.id
    private = bytes(services.event_key(demo_event).private_key)
    body = response.get_data(as_text=True)
    assert private.hex() not in body and base64.b64encode(private).decode() not in body


def test_badge_keys_exist_before_any_badge_and_answer_304_when_unchanged(client, demo_event):
    first = client.get(f"/e/{demo_event.slug}/badge-keys.json")
    again = client.get(f"/e/{demo_event.slug}/badge-keys.json", headers={"If-None-Match": first.headers["ETag"]})

    assert [key["key_id"] for key in first.get_json()["keys"]] == [1]
    assert again.status_code == 304


def test_badge_keys_of_an_unknown_event_are_a_404(client, app):
    assert client.get("/e/nope/badge-keys.json").status_code == 404


# --- Organiser: sheets, printed, one badge ---


def test_organiser_badges_page_offers_the_selections(organiser_client, demo_event):
    delegation = Delegation(event_id=demo_event.id, name="<Hauts-de-France>")
    db.session.add(delegation)
    db.session.commit()
    _register(demo_event, delegation_id=delegation.id)

    response = organiser_client.get(f"/e/{demo_event.slug}/admin/badges")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<label for="sheets-selection">' in html and 'id="sheets-selection"' in html
    assert f'value="delegation:{delegation.id}"' in html
    assert "&lt;Hauts-de-France&gt;" in html and "<Hauts-de-France>" not in html
    assert 'name="csrf_token"' in html


def test_organiser_downloads_sheets_of_everyone(organiser_client, demo_event):
    people = [_register(demo_event, f"P{i}", f"Nom{i:02d}") for i in range(9)]
    _register(demo_event, "Annulé", "Nom00", status="cancelled")

    response = organiser_client.get(f"/e/{demo_event.slug}/admin/badges.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert _registration_ids(demo_event, response.data) == [sorted(p.id for p in people[:8]), [people[8].id]]


def test_organiser_downloads_a_delegation_then_marks_it_printed(organiser_client, demo_event):
    delegation = Delegation(event_id=demo_event.id, name="Hauts-de-France")
    db.session.add(delegation)
    db.session.commit()
    member = _register(demo_event, "Alice", "Martin", delegation_id=delegation.id)
    outsider = _register(demo_event, "Bruno", "Arnaud")
    selection = f"delegation:{delegation.id}"

    sheets = organiser_client.get(f"/e/{demo_event.slug}/admin/badges.pdf", query_string={"selection": selection})
    marked = organiser_client.post(f"/e/{demo_event.slug}/admin/badges/printed", data={"selection": selection})

    assert _registration_ids(demo_event, sheets.data) == [[member.id]]
    assert marked.status_code == 302 and marked.headers["Location"].endswith(f"/e/{demo_event.slug}/admin/badges")
    db.session.refresh(member)
    db.session.refresh(outsider)
    assert member.badge_printed_at is not None and outsider.badge_printed_at is None
    unprinted = organiser_client.get(f"/e/{demo_event.slug}/admin/badges.pdf?selection=unprinted")
    assert _registration_ids(demo_event, unprinted.data) == [[outsider.id]]
    page = organiser_client.get(f"/e/{demo_event.slug}/admin/badges").get_data(as_text=True)
    assert "1 badge noté comme imprimé." in page


def test_organiser_picks_badges_by_id(organiser_client, demo_event):
    first, second, _third = (_register(demo_event, f"P{i}", f"N{i}") for i in range(3))

    response = organiser_client.get(f"/e/{demo_event.slug}/admin/badges.pdf?selection=ids:{first.id},{second.id}")

    assert _registration_ids(demo_event, response.data) == [sorted([first.id, second.id])]


@pytest.mark.parametrize("selection", ["nonsense", "delegation:abc", "ids:", "ids:1;DROP"])
def test_unknown_selection_is_a_clear_error(organiser_client, demo_event, selection):
    response = organiser_client.get(f"/e/{demo_event.slug}/admin/badges.pdf", query_string={"selection": selection})

    assert response.status_code == 422
    assert "Sélection de badges inconnue" in response.get_data(as_text=True)


def test_empty_selection_says_there_is_nothing_to_print(organiser_client, demo_event):
    response = organiser_client.get(f"/e/{demo_event.slug}/admin/badges.pdf?selection=unprinted")

    assert response.status_code == 422
    assert "aucun badge à imprimer" in response.get_data(as_text=True)


def test_organiser_prints_one_a6_badge(organiser_client, demo_event):
    person = _register(demo_event)

    response = organiser_client.get(f"/e/{demo_event.slug}/admin/registrations/{person.id}/badge.pdf")

    assert response.status_code == 200
    assert _registration_ids(demo_event, response.data) == [[person.id]]


def test_registration_of_another_event_is_a_404_for_organisers(organiser_client, demo_event):
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2020, 1, 1), end_date=date(2020, 1, 1))
    db.session.add(other)
    db.session.commit()
    stranger = _register(other)

    assert organiser_client.get(f"/e/{demo_event.slug}/admin/registrations/{stranger.id}/badge.pdf").status_code == 404
    reissue = organiser_client.post(f"/e/{demo_event.slug}/admin/registrations/{stranger.id}/badge/reissue")
    assert reissue.status_code == 404
    db.session.refresh(stranger)
    assert stranger.badge_serial == 1


def test_volunteer_cannot_print_or_reissue(client, demo_event, make_user, login):
    person = _register(demo_event)
    login(make_user("volunteer", demo_event))

    assert client.get(f"/e/{demo_event.slug}/admin/badges.pdf").status_code == 403
    assert client.post(f"/e/{demo_event.slug}/admin/registrations/{person.id}/badge/reissue").status_code == 403
    db.session.refresh(person)
    assert person.badge_serial == 1


# --- Reissue ---


def test_reissue_revokes_the_old_badge_and_goes_back(organiser_client, demo_event):
    person = _register(demo_event, "Jean", "N'Diaye")
    old_text = services.badge_payload(person)
    services.mark_printed([person])
    detail = f"/e/{demo_event.slug}/admin/registrations/{person.id}"

    response = organiser_client.post(f"{detail}/badge/reissue", data={"next": detail})

    assert response.status_code == 302 and response.headers["Location"] == detail
    db.session.refresh(person)
    assert person.badge_serial == 2 and person.badge_printed_at is None
    assert services.verify(demo_event, old_text) == ("revoked", person)
    new_text = _codes(organiser_client.get(f"{detail}/badge.pdf").data)[0][0]
    assert services.verify(demo_event, new_text) == ("valid", person)
    page = organiser_client.get(f"/e/{demo_event.slug}/admin/badges").get_data(as_text=True).replace("&#39;", "'")
    assert "Nouveau badge pour Jean N'Diaye" in page


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "/e/autre/admin/x", "/login"])
def test_reissue_never_redirects_outside_the_event_admin(organiser_client, demo_event, next_url):
    person = _register(demo_event)

    response = organiser_client.post(
        f"/e/{demo_event.slug}/admin/registrations/{person.id}/badge/reissue", data={"next": next_url}
    )

    assert response.headers["Location"] == f"/e/{demo_event.slug}/admin/badges"


class CsrfConfig(TestConfig):
    WTF_CSRF_ENABLED = True


def test_reissue_without_csrf_token_is_refused():
    app = create_app(CsrfConfig)
    with app.app_context():
        db.create_all()
        from forum_app.auth import services as auth_services
        from forum_app.programme import imports
        from tests.conftest import DEMO_JSON

        event = imports.import_schedule_file(DEMO_JSON).event
        auth_services.ensure_user("org@example.org", "correct-horse-battery", name="Org", event=event, role="organiser")
        person = _register(event)
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"email": "org@example.org", "password": "correct-horse-battery", "csrf_token": token})

        refused = client.post(f"/e/{event.slug}/admin/registrations/{person.id}/badge/reissue")

        assert refused.status_code == 400
        db.session.refresh(person)
        assert person.badge_serial == 1
        page = client.get(f"/e/{event.slug}/admin/badges").get_data(as_text=True)
        form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        accepted = client.post(f"/e/{event.slug}/admin/registrations/{person.id}/badge/reissue", data={"csrf_token": form_token})
        assert accepted.status_code == 302
        db.session.refresh(person)
        assert person.badge_serial == 2
        db.session.remove()
        db.drop_all()


def test_a_badge_signed_with_a_newer_key_verifies_after_the_older_one_was_seen(demo_event):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from forum_app.badges.models import BadgeKey

    person = _register(demo_event)
    first = services.badge_payload(person)
    assert services.verify(demo_event, first)[0] == domain.VALID  # the worker now holds key 1
    seed = secrets.token_bytes(32)
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    db.session.add(BadgeKey(event_id=demo_event.id, key_id=2, private_key=seed, public_key=public))
    db.session.commit()
    newer = domain.sign_badge(seed, domain.BadgeClaims(demo_event.id, 2, person.id, person.badge_serial))
    forged = domain.sign_badge(secrets.token_bytes(32), domain.BadgeClaims(demo_event.id, 2, person.id, person.badge_serial))

    assert services.verify(demo_event, newer)[0] == domain.VALID
    assert services.verify(demo_event, first)[0] == domain.VALID
    assert services.verify(demo_event, forged)[0] == domain.INVALID
