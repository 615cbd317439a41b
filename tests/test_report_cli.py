"""`flask report build`: the same files as the pages, from the command line."""
from __future__ import annotations

import io
import zipfile

import pytest

from forum_app.notes import demo as notes_demo
from forum_app.report import review, services


@pytest.fixture
def event_with_notes(demo_event):
    notes_demo.load_demo_notes(demo_event)
    return demo_event


def _build(app, *args):
    return app.test_cli_runner().invoke(args=["report", "build", *args])


@pytest.mark.parametrize(
    ("fmt", "starts_with"),
    [("pdf", b"%PDF-"), ("docx", b"PK"), ("md", b"> **Brouillon"), ("html", b"<!DOCTYPE html>")],
)
def test_report_build_writes_the_draft_in_each_format(app, event_with_notes, tmp_path, fmt, starts_with):
    output = tmp_path / f"rapport.{fmt}"

    result = _build(app, event_with_notes.slug, "--format", fmt, "--output", str(output))

    assert result.exit_code == 0, result.output + result.stderr
    data = output.read_bytes()
    assert data[: len(starts_with)].lower() == starts_with.lower()
    assert "draft" in result.stderr


def test_report_build_docx_is_a_word_document(app, event_with_notes, tmp_path):
    output = tmp_path / "rapport.docx"

    _build(app, event_with_notes.slug, "--format", "docx", "--output", str(output))

    with zipfile.ZipFile(io.BytesIO(output.read_bytes())) as archive:
        assert "word/document.xml" in archive.namelist()


def test_report_build_published_refuses_an_unpublished_report(app, event_with_notes, tmp_path):
    result = _build(app, event_with_notes.slug, "--format", "md", "--output", str(tmp_path / "r.md"), "--published")

    assert result.exit_code != 0
    assert "not published" in result.stderr
    assert not (tmp_path / "r.md").exists()


def test_report_build_published_writes_the_snapshot_not_the_later_draft(app, event_with_notes, make_user, tmp_path):
    organiser = make_user("organiser", event_with_notes)
    review.start_review(event_with_notes, organiser)
    services.publish(event_with_notes, organiser)
    report = services.get_report(event_with_notes)
    report.title = "Titre changé après la publication"
    from forum_app.extensions import db

    db.session.commit()

    _build(app, event_with_notes.slug, "--format", "md", "--output", str(tmp_path / "pub.md"), "--published")
    _build(app, event_with_notes.slug, "--format", "md", "--output", str(tmp_path / "draft.md"))

    assert "Titre changé" not in (tmp_path / "pub.md").read_text()
    assert "Titre changé" in (tmp_path / "draft.md").read_text()


def test_report_build_unknown_event_is_a_clear_error(app, tmp_path):
    result = _build(app, "nope", "--format", "pdf", "--output", str(tmp_path / "r.pdf"))

    assert result.exit_code != 0
    assert "Error" in result.stderr
