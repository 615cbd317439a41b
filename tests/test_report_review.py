"""The rapporteurs' review of the report: each one is emailed their sections when the review starts,
reads them as they will be published and validates them; a change afterwards shows."""
from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime

import pytest

from forum_app import mail
from forum_app.extensions import db
from forum_app.notes import services as notes_services
from forum_app.notes.models import NoteItem, RapporteurAssignment
from forum_app.programme.models import Session
from forum_app.report import domain, review, services

CAPTURED = datetime(2019, 6, 6, 9, 40, tzinfo=UTC)


def _session(event, code) -> Session:
    return db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))


def _note(event, author, code, text) -> int:
    body = {"client_id": uuid.uuid4().hex, "kind": "key_point", "text": text, "captured_at": CAPTURED.isoformat()}
    return notes_services.add_item(event, _session(event, code), author, body).item["id"]


def _edit(event, author, note_id, text) -> None:
    version = db.session.get(NoteItem, note_id).version
    notes_services.edit_item(event, note_id, author, {"version": version, "text": text})


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def _review_url(event) -> str:
    return f"/e/{event.slug}/report/review"


def _fingerprint(page, code) -> tuple[int, str]:
    """(session_id, fingerprint) posted by the validation form of the section `code`."""
    body = page.get_data(as_text=True)
    block = body[body.index(f'id="review-{code}"'):]
    session_id = int(re.search(r'name="session_id" value="(\d+)"', block).group(1))
    return session_id, re.search(r'name="fingerprint" value="([0-9a-f]+)"', block).group(1)


def _validate(client, event, code, page=None, **extra):
    page = page or client.get(_review_url(event))
    session_id, fingerprint = _fingerprint(page, code)
    return client.post(_review_url(event), data={"session_id": str(session_id), "fingerprint": fingerprint, **extra})


@pytest.fixture
def people(demo_event, make_user):
    """An organiser; Anne reports on A1 and A2, Bruno on A3; S103 has notes and no rapporteur."""
    organiser = make_user("organiser", demo_event)
    anne = make_user("rapporteur", demo_event)
    bruno = make_user("rapporteur", demo_event)
    for user, codes in ((anne, ("A1", "A2")), (bruno, ("A3",))):
        for code in codes:
            db.session.add(RapporteurAssignment(user_id=user.id, session_id=_session(demo_event, code).id))
    db.session.commit()
    notes = {
        "A1": _note(demo_event, anne, "A1", "Le foncier d'activité manque dans les quartiers."),
        "A2": _note(demo_event, anne, "A2", "Créer son entreprise depuis le quartier."),
        "A3": _note(demo_event, bruno, "A3", "Le numérique au service des habitants."),
        "S103": _note(demo_event, organiser, "S103", "Les quartiers ont un potentiel économique."),
    }
    return {"organiser": organiser, "anne": anne, "bruno": bruno, "notes": notes}


@pytest.fixture
def in_review(demo_event, people):
    review.start_review(demo_event, people["organiser"])
    return demo_event


def _as(app, user):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    assert response.status_code == 302
    return client


def test_start_review_emails_each_rapporteur_once_with_their_sections(app, demo_event, people):
    organiser = _as(app, people["organiser"])

    response = organiser.post(f"/e/{demo_event.slug}/admin/report/review")

    assert response.status_code in (302, 303)
    assert services.get_report(demo_event).status == domain.REVIEW
    outbox = mail.memory_outbox(app)
    to_anne = [m for m in outbox if people["anne"].email in str(m["To"])]
    to_bruno = [m for m in outbox if people["bruno"].email in str(m["To"])]
    assert len(to_anne) == 1 and len(to_bruno) == 1
    assert len(outbox) == 2  # nobody else: the session without a rapporteur is the organisers' to validate
    anne_body = to_anne[0].get_body(("plain",)).get_content()
    assert "Atelier 1" in anne_body and "Atelier 2" in anne_body and "Atelier 3" not in anne_body
    assert f"/e/{demo_event.slug}/report/review" in anne_body
    assert "est en relecture" in str(to_anne[0]["Subject"])


def test_rapporteur_sees_only_their_sections_as_they_will_read(app, in_review, people):
    anne = _as(app, people["anne"])

    page = anne.get(_review_url(in_review))

    text = _text(page)
    assert page.status_code == 200
    assert "Le foncier d'activité manque dans les quartiers." in text
    assert "Créer son entreprise depuis le quartier." in text
    assert "Le numérique au service des habitants." not in text
    assert "Les quartiers ont un potentiel économique." not in text
    assert text.count("À valider") == 2
    assert f"/e/{in_review.slug}/notes/A1" in page.get_data(as_text=True)  # corrections: the capture page
    assert "no-store" in page.headers["Cache-Control"]


def test_organiser_sees_every_section_including_those_without_a_rapporteur(app, in_review, people):
    organiser = _as(app, people["organiser"])

    text = _text(organiser.get(_review_url(in_review)))

    for words in ("Le foncier d'activité", "Créer son entreprise", "Le numérique", "Les quartiers ont un potentiel"):
        assert words in text
    assert "Aucun rapporteur pour cette session" in text


def test_rapporteur_validates_their_own_section(app, in_review, people):
    anne = _as(app, people["anne"])

    response = _validate(anne, in_review, "A1", comment="Relu, parfait.")
    page = anne.get(_review_url(in_review))

    assert response.status_code == 303
    text = _text(page)
    assert "Section « Atelier 1 — Immobilier d'entreprise en QPV » validée" in text
    assert "Sections validées : 1 sur 2" in text and "Relu, parfait." in text
    state = {s.code: s for s in review.section_states(in_review)}["A1"]
    assert state.validated and state.validated_by_id == people["anne"].id


def test_rapporteur_cannot_validate_another_rapporteurs_section(app, in_review, people):
    anne = _as(app, people["anne"])
    organiser_page = _as(app, people["organiser"]).get(_review_url(in_review))
    session_id, fingerprint = _fingerprint(organiser_page, "A3")

    response = anne.post(_review_url(in_review), data={"session_id": str(session_id), "fingerprint": fingerprint})

    assert response.status_code == 403
    assert not {s.code: s for s in review.section_states(in_review)}["A3"].validated


def test_section_changed_during_the_reading_is_not_validated(app, in_review, people):
    anne = _as(app, people["anne"])
    page = anne.get(_review_url(in_review))
    _edit(in_review, people["anne"], people["notes"]["A1"], "Le foncier d'activité manque cruellement.")

    response = _validate(anne, in_review, "A1", page=page)

    assert response.status_code == 409
    text = _text(response)
    assert "La section a changé pendant votre relecture" in text
    assert "Le foncier d'activité manque cruellement." in text  # shown again, as it reads now
    assert not {s.code: s for s in review.section_states(in_review)}["A1"].validated


def test_change_after_validation_shows_modified_since_validation(app, in_review, people):
    anne = _as(app, people["anne"])
    _validate(anne, in_review, "A1")
    _edit(in_review, people["anne"], people["notes"]["A1"], "Une phrase corrigée après validation.")

    page = anne.get(_review_url(in_review))

    text = _text(page)
    assert "Modifiée depuis la validation" in text
    assert "Une phrase corrigée après validation." in text
    assert "Sections validées : 0 sur 2" in text


def test_too_long_comment_is_refused_with_a_message(app, in_review, people):
    anne = _as(app, people["anne"])

    response = _validate(anne, in_review, "A2", comment="x" * 2001)

    assert response.status_code == 422
    assert "2001 caractères, 2000 au maximum" in _text(response)
    assert not {s.code: s for s in review.section_states(in_review)}["A2"].validated


def test_review_page_explains_when_the_report_is_not_in_review(app, demo_event, people):
    anne = _as(app, people["anne"])

    response = anne.get(_review_url(demo_event))

    assert response.status_code == 200
    assert "Le rapport n'est pas en relecture en ce moment." in _text(response)
    assert 'name="fingerprint"' not in response.get_data(as_text=True)


def test_validation_is_refused_once_the_review_is_over(app, in_review, people):
    anne = _as(app, people["anne"])
    page = anne.get(_review_url(in_review))
    review.back_to_draft(in_review, people["organiser"])

    response = _validate(anne, in_review, "A1", page=page)

    assert response.status_code == 409
    assert "Le rapport n'est pas en relecture" in _text(response)


def test_review_page_is_for_the_events_staff(app, client, in_review, make_user):
    volunteer = _as(app, make_user("volunteer", in_review))

    assert volunteer.get(_review_url(in_review)).status_code == 403
    assert client.get(_review_url(in_review)).status_code == 302  # to the login page


def test_staff_home_links_to_the_review_while_the_report_is_in_review(app, demo_event, people):
    anne = _as(app, people["anne"])
    before = anne.get("/admin/").get_data(as_text=True)
    review.start_review(demo_event, people["organiser"])

    during = anne.get("/admin/").get_data(as_text=True)

    assert "Relire le rapport" not in before
    assert "Relire le rapport" in during and _review_url(demo_event) in during
