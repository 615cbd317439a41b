"""The report as a PDF publication (WeasyPrint): cover, contents whose page numbers really lead
to the sections, running heads, "page N / M", photos embedded, metadata; and nothing fetched
from anywhere but the report's own photo files."""
from __future__ import annotations

import io
import re
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image

from forum_app import create_app
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.notes import domain as notes_domain
from forum_app.notes import photos
from forum_app.notes import services as notes_services
from forum_app.notes.demo import load_demo_notes
from forum_app.programme.models import Session
from forum_app.report import domain, outputs, pdf, services

DEMO_JSON = Path(__file__).resolve().parent.parent / "forum_app" / "demo_data" / "citescap-programme.json"
PHOTO_CAPTION = "Atelier 1 : la salle Vilaine pendant le tour de table"


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


def _pages(data: bytes) -> list[str]:
    """Each page's text, whitespace folded."""
    document = pdfium.PdfDocument(data)
    try:
        texts = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            texts.append(_clean(textpage.get_text_range()))
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def _images_on(data: bytes, index: int) -> int:
    document = pdfium.PdfDocument(data)
    try:
        page = document[index]
        count = len(list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])))
        page.close()
        return count
    finally:
        document.close()


@dataclass
class DemoPdf:
    data: bytes
    sections: list[str]  # section titles, in the report's order
    title: str
    seconds: float


@pytest.fixture(scope="module")
def demo_pdf() -> DemoPdf:
    """The draft report of the demo forum's notes, with one photo, rendered once for this module."""
    app = create_app(TestConfig)
    with app.app_context():
        db.create_all()
        try:
            from forum_app.auth import services as auth_services
            from forum_app.programme import imports

            event = imports.import_schedule_file(DEMO_JSON).event
            load_demo_notes(event)
            author = auth_services.find_user("rapporteur@citescap.example")
            session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code="A1"))
            out = io.BytesIO()
            Image.new("RGB", (1600, 1067), (30, 90, 160)).save(out, "JPEG")
            out.seek(0)
            stored = photos.store(event.id, out)
            notes_services.add_item(
                event, session, author,
                {"client_id": uuid.uuid4().hex, "kind": notes_domain.PHOTO, "text": PHOTO_CAPTION,
                 "captured_at": datetime(2019, 6, 6, 12, 0, tzinfo=UTC).isoformat()},
                photo={**stored, "credit": "Camille Martin"},
            )
            document = services.draft_document(event)
            started = time.perf_counter()
            output = outputs.build(document, "pdf", photo_url=lambda name: name, photo_path=services.photo_resolver(event))
            seconds = time.perf_counter() - started
            return DemoPdf(output.data, [s.title for s in document.sections], document.title, seconds)
        finally:
            db.session.remove()
            db.drop_all()


def _contents(texts: list[str], titles: list[str]) -> dict[str, int]:
    """{section title: page number} as the contents page prints them."""
    contents = texts[1]
    found = {}
    for title in titles:
        match = re.search(re.escape(_clean(title)) + r"[\s.]*?(\d+)", contents)
        assert match, f"{title!r} is not in the contents: {contents[:400]}"
        found[title] = int(match.group(1))
    return found


# --- The demo report ---------------------------------------------------------------------------


def test_demo_report_has_a_cover_then_contents_then_its_parts(demo_pdf):
    texts = _pages(demo_pdf.data)

    assert 8 <= len(texts) <= 60
    cover = texts[0]
    assert _clean(demo_pdf.title) in cover
    assert "6 et 7 juin 2019" in cover and "Brouillon — non publié" in cover
    assert texts[1].startswith("Sommaire")
    assert "Les temps forts" in texts[1] and "Autres temps du forum" in texts[1]
    assert demo_pdf.seconds < 30


def test_contents_page_numbers_lead_to_each_section(demo_pdf):
    texts = _pages(demo_pdf.data)

    numbers = _contents(texts, demo_pdf.sections)

    assert list(numbers.values()) == sorted(numbers.values())  # in reading order
    for title, number in numbers.items():
        assert 3 <= number <= len(texts)
        assert _clean(title) in texts[number - 1], f"{title!r} is not on page {number}"


def test_pages_carry_running_heads_and_page_n_of_m(demo_pdf):
    texts = _pages(demo_pdf.data)
    numbers = _contents(texts, demo_pdf.sections)

    for index, text in enumerate(texts[1:], start=2):
        assert f"page {index} / {len(texts)}" in text
    assert f"page 1 / {len(texts)}" not in texts[0]  # the cover has no footer
    # Left-hand pages name the report; right-hand pages the session that starts there.
    assert _clean(demo_pdf.title) in texts[1]
    starting = [(title, page) for title, page in numbers.items() if page % 2 == 1]
    later = [(title, page) for title, page in starting[1:] if list(numbers.values()).count(page) == 1]
    assert later, "no section starts alone on a right-hand page"
    for title, page in later:
        assert texts[page - 1].count(_clean(title)) >= 2, f"page {page} does not name {title!r} in its head"


def test_photo_is_embedded_with_its_caption_and_credit(demo_pdf):
    texts = _pages(demo_pdf.data)

    pages = [i for i, text in enumerate(texts) if PHOTO_CAPTION in text]

    assert len(pages) == 1
    assert "Crédit : Camille Martin" in texts[pages[0]]
    assert _images_on(demo_pdf.data, pages[0]) >= 1
    assert _images_on(demo_pdf.data, 1) == 0  # the contents page has none


# --- Small documents ---------------------------------------------------------------------------

EVENT = domain.EventFacts("forum-test", "Forum de test", "2019-06-06", "2019-06-06", "Rennes")


def _document(items=(), **extra) -> domain.Document:
    section = domain.Section(1, "A1", "Atelier 1 — Immobilier", "workshop", "Atelier", starts="2019-06-06T11:30",
                             ends="2019-06-06T13:00", room="Salle Vilaine", items=list(items))
    values = {"event": EVENT, "title": "Retour sur le Forum de test", "lead": "Une journée à Rennes.",
              "organised_by": "RésOVilles", "sections": [section] if items else []}
    values.update(extra)
    return domain.Document(**values)


def _render(document, photo_path=lambda name: None) -> bytes:
    return outputs.build(document, "pdf", photo_url=lambda name: name, photo_path=photo_path).data


def _catalog_streams(data: bytes) -> bytes:
    """The PDF's bytes with its compressed streams inflated (the catalog may sit in one)."""
    found = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            found.append(zlib.decompressobj().decompress(data[match.end():match.end() + 200_000]))
        except zlib.error:
            continue
    return b"".join(found)


def test_pdf_metadata_name_the_report_its_author_and_language(app):
    data = _render(_document([domain.Item(1, notes_domain.KEY_POINT, "Un point")]))

    document = pdfium.PdfDocument(data)
    try:
        metadata = document.get_metadata_dict()
    finally:
        document.close()
    assert metadata["Title"] == "Retour sur le Forum de test"
    assert metadata["Author"] == "RésOVilles"
    assert b"/Lang (fr)" in _catalog_streams(data)


def test_published_pdf_gives_its_version_and_date_and_no_draft_notice(app):
    document = _document([domain.Item(1, notes_domain.KEY_POINT, "Un point")], status=domain.PUBLISHED, number=2,
                         published_at="2019-06-14T10:00:00+00:00")

    texts = _pages(_render(document))

    assert "Version 2 · publié le 14 juin 2019" in texts[0]
    assert not any("Brouillon" in text for text in texts)


def test_report_without_notes_still_builds_a_pdf(app):
    texts = _pages(_render(_document()))

    assert "Retour sur le Forum de test" in texts[0]
    assert any("Aucune note n'a encore été prise" in text for text in texts)
    assert not any("Les temps forts" in text for text in texts)


def test_notes_markup_is_printed_as_text(app):
    items = [domain.Item(1, notes_domain.KEY_POINT, "<b>gras</b> & <i>penché</i>\nligne deux")]

    texts = _pages(_render(_document(items)))

    assert any("<b>gras</b> & <i>penché</i> ligne deux" in text for text in texts)


def test_missing_photo_file_is_left_out_without_failing(app, tmp_path):
    present = tmp_path / "here.jpg"
    Image.new("RGB", (800, 600), (200, 40, 40)).save(present, "JPEG")
    items = [
        domain.Item(1, notes_domain.PHOTO, "Présente", photo=domain.Photo("here.jpg", 800, 600, "Présente", "A")),
        domain.Item(2, notes_domain.PHOTO, "Absente", photo=domain.Photo("gone.jpg", 800, 600, "Absente", "B")),
    ]

    data = _render(_document(items), photo_path=lambda name: present if name == "here.jpg" else None)

    texts = _pages(data)
    assert any("Présente · Crédit : A" in text for text in texts)
    assert not any("Absente" in text for text in texts)


def test_large_photos_are_reduced_to_the_printed_size(app, tmp_path):
    big = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), (40, 120, 40)).save(big, "JPEG")
    folder = tmp_path / "out"
    folder.mkdir()
    document = _document([domain.Item(1, notes_domain.PHOTO, "Grande", photo=domain.Photo("big.jpg", 4000, 3000, "Grande"))])

    files = pdf._photo_files(document, lambda name: big, folder)

    with Image.open(files["big.jpg"]) as reduced:
        assert max(reduced.size) <= pdf.MAX_PHOTO_PX
    assert big.stat().st_size > 0  # the stored photo itself is never changed


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self):
        _Recorder.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_rendering_fetches_nothing_whatever_the_report_says(app):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    _Recorder.seen.clear()
    try:
        hostile = (f"![x]({base}/markdown.png) <img src=\"{base}/raw.png\"> [lien]({base}/link) "
                   f"<link rel=stylesheet href=\"{base}/style.css\"> ![y](http://127.0.0.1:9/x.png) ![z](file:///etc/passwd)")
        items = [
            domain.Item(1, notes_domain.KEY_POINT, f"<img src=\"{base}/note.png\"> <style>@import url({base}/n.css)</style>"),
            domain.Item(2, notes_domain.PHOTO, "Photo", photo=domain.Photo("../../etc/passwd", 10, 10, "Photo")),
        ]
        document = _document(items, introduction_md=hostile, links_md=f"- [Site]({base}/site)")

        started = time.perf_counter()
        data = _render(document, photo_path=lambda name: None)
        elapsed = time.perf_counter() - started
    finally:
        server.shutdown()
        thread.join(5)

    assert data.startswith(b"%PDF")
    assert _Recorder.seen == []
    assert elapsed < 15  # nothing waited on a network timeout


def test_url_fetcher_serves_only_the_files_it_was_given(tmp_path):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    fetcher = pdf.url_fetcher({photo.as_uri(): photo})

    response = fetcher(photo.as_uri())
    assert response.read() == b"\xff\xd8\xff"
    response.close()
    for url in ("http://127.0.0.1:9/x.png", "https://example.org/a.css", "file:///etc/passwd",
                (tmp_path / "other.jpg").as_uri(), "data:image/png;base64,iVBORw0KGgo=", "ftp://example.org/x"):
        with pytest.raises(ValueError):
            fetcher(url)
