"""Publishing the report: snapshots freeze what readers see; the public pages follow them."""
from __future__ import annotations

import pytest

from forum_app.errors import Conflict, Forbidden, NotFound
from forum_app.extensions import db
from forum_app.notes import demo as notes_demo
from forum_app.notes.models import NoteItem
from forum_app.report import domain, review, services


@pytest.fixture
def event_with_notes(demo_event):
    notes_demo.load_demo_notes(demo_event)
    return demo_event


@pytest.fixture
def organiser(make_user, event_with_notes):
    return make_user("organiser", event_with_notes)


def _publish(event, user):
    review.start_review(event, user)
    return services.publish(event, user)


def _first_key_point(event) -> NoteItem:
    return db.session.scalar(
        db.select(NoteItem).filter_by(event_id=event.id, kind="key_point").order_by(NoteItem.id).limit(1)
    )


def test_publish_before_any_review_is_refused(event_with_notes, organiser):
    with pytest.raises(Conflict):
        services.publish(event_with_notes, organiser)

    assert services.latest_snapshot(event_with_notes) is None


def test_publish_by_a_rapporteur_is_forbidden(event_with_notes, organiser, make_user):
    review.start_review(event_with_notes, organiser)
    rapporteur = make_user("rapporteur", event_with_notes)

    with pytest.raises(Forbidden):
        services.publish(event_with_notes, rapporteur)


def test_published_snapshot_does_not_change_when_notes_change_until_republished(event_with_notes, organiser):
    snapshot = _publish(event_with_notes, organiser)
    item = _first_key_point(event_with_notes)
    words_before = item.text

    item.text = "Une correction faite après la publication"
    db.session.commit()

    published = services.published_document(event_with_notes)
    published_texts = [i.text for s in published.sections for i in s.items]
    draft_texts = [i.text for s in services.draft_document(event_with_notes).sections for i in s.items]
    assert snapshot.number == 1
    assert words_before in published_texts
    assert "Une correction faite après la publication" not in published_texts
    assert "Une correction faite après la publication" in draft_texts

    republished = services.publish(event_with_notes, organiser)

    texts = [i.text for s in services.published_document(event_with_notes).sections for i in s.items]
    assert republished.number == 2
    assert "Une correction faite après la publication" in texts


def test_an_edit_after_publication_makes_the_working_copy_a_draft_again(event_with_notes, organiser):
    _publish(event_with_notes, organiser)
    report = services.get_report(event_with_notes)
    assert report.status == domain.PUBLISHED

    services.touch(report, organiser)

    assert report.status == domain.DRAFT


def test_named_quotes_without_consent_are_left_out_of_the_publication(event_with_notes, organiser):
    _publish(event_with_notes, organiser)

    published = services.published_document(event_with_notes)
    named_quotes = [
        i for s in published.sections for i in s.items if i.kind == "quote" and i.attribution != domain.ANONYMOUS
    ]
    check = services.publication_check(event_with_notes)
    assert named_quotes == []
    assert check.quotes_left_out > 0


def test_withdraw_takes_every_version_offline(event_with_notes, organiser, client):
    _publish(event_with_notes, organiser)
    slug = event_with_notes.slug
    assert client.get(f"/e/{slug}/report").status_code == 200

    services.withdraw(event_with_notes, organiser)

    assert services.latest_snapshot(event_with_notes) is None
    assert client.get(f"/e/{slug}/report").status_code == 404
    with pytest.raises(Conflict):
        services.withdraw(event_with_notes, organiser)


def test_public_report_is_404_before_publication(event_with_notes, client):
    slug = event_with_notes.slug

    for path in (f"/e/{slug}/report", f"/e/{slug}/report.pdf", f"/e/{slug}/report.docx", f"/e/{slug}/report.md"):
        response = client.get(path)
        assert response.status_code == 404, path
    assert "pas encore publié" in client.get(f"/e/{slug}/report").get_data(as_text=True)


def test_public_report_answers_304_to_a_reader_who_has_this_version(event_with_notes, organiser, client):
    _publish(event_with_notes, organiser)
    url = f"/e/{event_with_notes.slug}/report.md"
    first = client.get(url)

    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})

    assert first.status_code == 200
    assert again.status_code == 304


def test_photo_path_serves_only_photos_of_the_document(event_with_notes):
    document = services.draft_document(event_with_notes)

    with pytest.raises(NotFound):
        services.photo_path(event_with_notes, document, "0" * 32 + ".jpg")
    with pytest.raises(NotFound):
        services.photo_path(event_with_notes, document, "../../etc/passwd")


def test_attendance_counts_confirmed_registrations_and_entrance_arrivals(event_with_notes, organiser):
    from datetime import UTC, datetime

    from forum_app.checkin import services as checkin_services
    from forum_app.registration import services as registration_services
    from forum_app.registration.services import RegistrationInput

    def desk(first, last, territory):
        data = RegistrationInput(first_name=first, last_name=last, email=f"{first}.{last}@example.org".lower(),
                                 organisation="CU Dunkerque", category="collectivite", territory=territory, consent=True)
        return registration_services.register(event_with_notes, data, source="desk").registration

    came, absent = desk("Jamal", "Khay", "Hauts-de-France"), desk("Anne", "Leroy", "Bretagne")
    checkin_services.check_in(event_with_notes, registration_id=came.id, client_id="report-arrival-1",
                              station="Accueil", scanned_at=datetime.now(UTC).isoformat(), user=organiser)

    figures = services.attendance(event_with_notes)

    assert (figures.registered, figures.present, figures.organisations) == (2, 1, 1)
    assert {(row.label, row.registered, row.present) for row in figures.by_territory} == {
        ("Hauts-de-France", 1, 1), ("Bretagne", 1, 0)
    }
    assert absent.status == "confirmed"
