"""The demo report `flask demo load` publishes: written, illustrated, consented, with who came."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from forum_app import cli
from forum_app.checkin.models import CheckIn
from forum_app.extensions import db
from forum_app.notes import demo as notes_demo
from forum_app.notes import photos
from forum_app.notes.models import NoteItem
from forum_app.report import demo, domain, services
from forum_app.report.models import QuoteApproval, ReportSnapshot

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def uploads(app, tmp_path):
    app.config["NOTES_UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.fixture
def demo_forum(demo_event, uploads):
    """The demo programme, its delegation and its notes, as `flask demo load` leaves them before the report."""
    cli._load_demo_delegation(demo_event)
    notes_demo.load_demo_notes(demo_event)
    return demo_event


@pytest.fixture
def published(demo_forum):
    demo.load_demo_report(demo_forum)
    return services.published_document(demo_forum)


def _counts(event) -> dict:
    def count(model, **where):
        return db.session.scalar(db.select(db.func.count()).select_from(model).filter_by(**where))

    return {
        "snapshots": count(ReportSnapshot),
        "notes": count(NoteItem, event_id=event.id),
        "consents": count(QuoteApproval),
        "checkins": count(CheckIn, event_id=event.id),
    }


def test_demo_report_is_published_with_the_demo_sessions_and_their_items(demo_forum, published):
    assert published is not None and not published.is_draft and published.number == 1
    assert published.title.startswith("Cités Cap 2019")
    assert published.organised_by.startswith("RésOVilles")
    assert "Club dev éco" in published.next_steps_md
    assert "https://example.org/" in published.links_md
    codes = [section.code for section in published.sections]
    for code in {entry["session"] for entry in notes_demo.read_items()}:
        assert code in codes
    assert all(section.items for section in published.sections)
    summaries = [section.code for section in published.sections if section.summary_md]
    assert 3 <= len(summaries) <= 5
    assert published.published_at.startswith("2019-06-14")


def test_demo_report_has_an_illustration_as_cover_and_three_honest_illustrations(demo_forum, published):
    pictures = [item for section in published.sections for item in section.items if item.kind == "photo"]

    assert len(pictures) == 3
    assert published.cover is not None and published.cover.file in {item.photo.file for item in pictures}
    for item in pictures:
        assert item.text.startswith("Illustration")
        assert "illustration" in item.photo.credit
        path = photos.path_of(demo_forum.id, item.photo.file)
        with Image.open(path) as image:
            assert image.format == "JPEG" and max(image.size) <= 1600


def test_demo_report_counts_who_came_through_the_entrance_that_morning(demo_forum, published):
    attendance = published.attendance

    assert attendance.registered == 12 and attendance.present == 10
    assert attendance.delegations and attendance.delegations[0].present == 10
    scans = db.session.scalars(db.select(CheckIn).filter_by(event_id=demo_forum.id)).all()
    assert {scan.station for scan in scans} == {"Accueil"} and all(scan.session_id is None for scan in scans)
    for scan in scans:
        local = scan.scanned_at.astimezone(PARIS)
        assert datetime(2019, 6, 6, 8, 30, tzinfo=PARIS) <= local <= datetime(2019, 6, 6, 9, 45, tzinfo=PARIS)
        assert scan.outcome == "checked_in" and not scan.clock_suspect


def test_demo_report_publishes_named_quotes_only_with_consent_and_leaves_two_out(demo_forum, published):
    draft = services.draft_document(demo_forum)
    draft_quotes = {item.id: item for section in draft.sections for item in section.items if item.kind == "quote"}
    published_ids = {item.id for section in published.sections for item in section.items if item.kind == "quote"}

    left_out = [draft_quotes[i] for i in draft_quotes.keys() - published_ids]
    assert sorted(item.attribution.split(",")[0] for item in left_out) == ["Karim Belkacem", "Sandrine Le Goff"]
    assert all(item.approval == domain.NOT_ASKED for item in left_out)
    assert all(draft_quotes[i].approval == domain.APPROVED for i in published_ids)
    consents = db.session.scalars(db.select(QuoteApproval)).all()
    assert len(consents) == len(published_ids) == len(draft_quotes) - 2
    organiser = demo.demo_organiser(demo_forum)
    for consent in consents:
        assert consent.text_sent == consent.final_text == consent.note.text
        assert consent.comment == "Accord recueilli par l'organisation" and consent.recorded_by_id == organiser.id


def test_demo_report_sections_are_all_validated_by_the_demo_organiser(demo_forum, published):
    from forum_app.report import review

    states = review.section_states(demo_forum)

    assert states and all(state.validated for state in states)
    organiser = demo.demo_organiser(demo_forum)
    assert {state.validated_by_id for state in states} == {organiser.id}


def test_demo_report_loading_again_adds_nothing_and_never_republishes(demo_forum, published, uploads):
    before = _counts(demo_forum)
    files = sorted(p.name for p in uploads.rglob("*") if p.is_file())

    again = demo.load_demo_report(demo_forum)

    assert again.published is None and again.summary() == "already loaded, nothing added"
    assert _counts(demo_forum) == before
    assert sorted(p.name for p in uploads.rglob("*") if p.is_file()) == files
    assert services.published_document(demo_forum).number == 1


def test_demo_report_leaves_an_event_with_check_ins_as_it_is(demo_forum):
    from forum_app.checkin import services as checkin_services
    from forum_app.registration.models import Registration

    first = db.session.scalars(db.select(Registration.id).filter_by(event_id=demo_forum.id)).first()
    checkin_services.check_in(
        demo_forum, registration_id=first, client_id="desk-test-0001", station="Porte B",
        scanned_at="2019-06-06T08:50:00+02:00",
    )

    loaded = demo.load_demo_report(demo_forum)

    assert loaded.checkins == 0
    assert services.published_document(demo_forum).attendance.present == 1


def test_flask_demo_load_publishes_the_report_once(app, uploads):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["demo", "load"])
    second = runner.invoke(args=["demo", "load"])

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "Demo report:" in first.output and "version 1 published" in first.output
    assert "Demo report: already loaded, nothing added" in second.output
    assert db.session.scalar(db.select(db.func.count()).select_from(ReportSnapshot)) == 1


def test_demo_report_page_is_online_without_the_quotes_nobody_approved(demo_forum, published, client):
    response = client.get(f"/e/{demo_forum.slug}/report")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Cités Cap 2019 : retour sur le forum" in page
    assert "Sophie Martin" in page and "au même niveau qu&#39;ailleurs" in page
    assert "Sandrine Le Goff" not in page and "Karim Belkacem" not in page
    cover = client.get(f"/e/{demo_forum.slug}/report/photos/{published.cover.file}")
    assert cover.status_code == 200 and cover.mimetype == "image/jpeg"
