"""The report as HTML: the public page /e/<slug>/report (in the site's layout, CSP-clean) and the
standalone file. Text typed in notes is escaped and keeps its line breaks, organisers' Markdown
is made safe, a report without notes still reads as a report, drafts say so."""
from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, datetime

import pytest
from flask import render_template_string

from forum_app.extensions import db
from forum_app.notes import domain as notes_domain
from forum_app.notes import services as notes_services
from forum_app.notes.demo import load_demo_notes
from forum_app.programme.models import Session
from forum_app.report import domain, html, outputs, review, services

EVENT = domain.EventFacts("forum-test", "Forum de test", "2019-06-06", "2019-06-06", "Rennes")


def _section(code="A1", items=(), **extra) -> domain.Section:
    values = {
        "session_id": 1, "code": code, "title": f"Atelier {code} — Immobilier", "kind": "workshop",
        "kind_label": "Atelier", "day": "2019-06-06", "starts": "2019-06-06T11:30", "ends": "2019-06-06T13:00",
        "room": "Salle Vilaine", "items": list(items),
        "people": [domain.PersonLine("Claire Roussel", "Responsable", "Banque des Territoires", "Intervenant·e")],
    }
    values.update(extra)
    return domain.Section(**values)


def _document(sections=(), **extra) -> domain.Document:
    values = {"event": EVENT, "title": "Retour sur le Forum de test", "lead": "Une journée à Rennes.",
              "organised_by": "RésOVilles", "sections": list(sections)}
    values.update(extra)
    return domain.Document(**values)


def _published(document: domain.Document) -> domain.Document:
    document.status, document.number, document.published_at = domain.PUBLISHED, 1, "2019-06-14T10:00:00+00:00"
    return document


@pytest.fixture
def render(app):
    """render(document) -> the public page's HTML, as the report view makes it."""

    def _render(document: domain.Document) -> str:
        with app.test_request_context(f"/e/{document.event.slug}/report"):
            output = outputs.build(document, "html", photo_url=lambda name: f"/photos/{name}", photo_path=lambda name: None)
        return output.data.decode("utf-8")

    return _render


def _report_part(page: str) -> str:
    return page[page.index('<article class="report'):page.index("</article>")]


# --- Text as typed ---------------------------------------------------------------------------


def test_page_escapes_markup_typed_in_notes_and_titles(render):
    item = domain.Item(1, notes_domain.KEY_POINT, "<script>alert('note')</script> et <b>gras</b>")
    section = _section(items=[item], title="<b>Atelier</b> <script>alert('titre')</script>")
    photo = domain.Photo("p.jpg", 40, 30, "<img src=x>", "<b>Moi</b>")
    section.items.append(domain.Item(2, notes_domain.PHOTO, photo.caption, photo=photo))
    document = _document([section], title="<script>alert('rapport')</script>", lead="<i>chapeau</i>",
                         organised_by="<b>Org</b>")

    page = render(document)

    assert "<script>alert" not in page
    assert "<b>" not in page and "<i>" not in page and "<img src=x>" not in page
    assert "Organisé par &lt;b&gt;Org&lt;/b&gt;" in page and "Crédit : &lt;b&gt;Moi&lt;/b&gt;" in page
    assert "&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt; et &lt;b&gt;gras&lt;/b&gt;" in page
    assert "&lt;b&gt;Atelier&lt;/b&gt;" in page
    assert "<h1 class=\"report-title\">&lt;script&gt;alert(&#39;rapport&#39;)&lt;/script&gt;</h1>" in page


def test_page_keeps_the_line_breaks_of_a_note_and_never_reads_it_as_markdown(render):
    item = domain.Item(1, notes_domain.PROPOSAL, "Premier point\nSecond point avec **étoiles** et [lien](http://x.example)")

    page = render(_document([_section(items=[item])]))

    assert '<p class="report-text">Premier point\nSecond point avec **étoiles** et [lien](http://x.example)</p>' in page
    assert "<strong>étoiles</strong>" not in page and 'href="http://x.example"' not in page


def test_hostile_markdown_in_the_introduction_is_neutralised(render):
    introduction = (
        "Bienvenue <script>alert(1)</script>\n\n"
        "[cliquez](javascript:alert(2)) <img src=x onerror=alert(3)> <a href=\"javascript:alert(4)\">a</a>\n\n"
        "![pixel](http://127.0.0.1:9/x.png) **important**"
    )

    page = render(_document([_section(items=[domain.Item(1, notes_domain.KEY_POINT, "Un point")])],
                            introduction_md=introduction))

    report = _report_part(page)
    assert not re.search(r"<a\b[^>]*javascript", report)
    assert re.search(r"<a\b", _report_part(page).split('id="introduction"')[1].split("</section>")[0]) is None
    assert "<script" not in report and "<img" not in report  # shown as text at most, never as markup
    assert "127.0.0.1:9" not in report  # no image from Markdown, ever
    assert "<strong>important</strong>" in report


# --- Sections and items ------------------------------------------------------------------------


def test_quote_without_attribution_reads_participant(render):
    note = domain.NoteFacts(7, 1, notes_domain.QUOTE, "On ne monte pas un projet sans les habitants.")
    session = domain.SessionFacts(1, "A1", "Atelier 1 — Immobilier", kind="workshop", kind_label="Atelier",
                                  starts="2019-06-06T11:30", ends="2019-06-06T13:00")
    document = domain.assemble(EVENT, domain.Settings(title="Rapport"), [session], [note], publishing=True)
    _published(document)

    page = render(document)

    quote = re.search(r'<blockquote class="report-quote">(.*?)</blockquote>', page, re.DOTALL).group(1)
    assert "On ne monte pas un projet sans les habitants." in quote
    assert '<footer class="report-quote-by">Participant·e</footer>' in quote


def test_section_shows_when_where_who_and_its_blocks_in_order(render):
    items = [
        domain.Item(1, notes_domain.QUESTION, "Qui porte le risque ?"),
        domain.Item(2, notes_domain.QUOTE, "Le bâtiment ne fait pas l'entreprise.", "Hugo Dumas, Directeur, COPAS"),
        domain.Item(3, notes_domain.KEY_POINT, "Des baux courts d'abord."),
        domain.Item(4, notes_domain.FIGURE, "3,5 M€ pour 2 000 m²"),
    ]

    page = render(_document([_section(items=items)]))

    assert "Jeudi 6 juin 2019, 11 h 30 – 13 h 00" in page and "Salle Vilaine" in page
    assert "Intervenant·e" in page and "Claire Roussel, Responsable, Banque des Territoires" in page
    headings = re.findall(r'<h4 class="report-block-title">(.*?)</h4>', page)
    assert [h.replace("&#39;", "'") for h in headings] == [
        "Ce qu'il faut retenir", "Chiffres clés", "Paroles d'intervenant·e·s", "Questions de la salle"]
    assert '<footer class="report-quote-by">Hugo Dumas, Directeur, COPAS</footer>' in page


def test_highlighted_items_carry_a_words_label_not_only_a_colour(render):
    items = [domain.Item(1, notes_domain.KEY_POINT, "Point fort", highlighted=True), domain.Item(2, notes_domain.KEY_POINT, "Point simple")]

    page = render(_document([_section(items=items)]))

    assert '<li class="is-highlighted"><span class="report-tag">À retenir</span><p class="report-text">Point fort</p></li>' in page
    assert page.count('<span class="report-tag">') == 1


def test_photo_has_its_size_alt_text_caption_and_credit(render):
    photo = domain.Photo("abc123.jpg", 1600, 1067, "La salle <comble>", "Camille Martin")
    item = domain.Item(1, notes_domain.PHOTO, photo.caption, photo=photo)

    page = render(_document([_section(items=[item])]))

    assert ('<img src="/photos/abc123.jpg" width="1600" height="1067" alt="La salle &lt;comble&gt;" loading="lazy">') in page
    assert "La salle &lt;comble&gt;</span> · <span class=\"report-credit\">Crédit : Camille Martin</span>" in page


def test_headings_follow_each_other_in_order(render):
    items = [domain.Item(1, notes_domain.KEY_POINT, "Un point"), domain.Item(2, notes_domain.FIGURE, "12 %")]
    attendance = domain.Attendance(40, 31, [domain.CountRow("Collectivité", 30, 25)], [domain.CountRow("Bretagne", 20, 18)],
                                   [domain.DelegationRow("Délégation Nord", "Hauts-de-France", 8, 7, ["ADULM", "COPAS"])], 12)
    document = _document([_section("A1", items), _section("A2", items, session_id=2)], introduction_md="## Contexte\n\nTexte",
                         conclusion_md="Fin.", attendance=attendance)

    page = render(document)

    levels = [int(level) for level in re.findall(r"<h([1-6])\b", _report_part(page))]
    assert levels[0] == 1
    assert all(later - earlier <= 1 for earlier, later in itertools.pairwise(levels))
    assert "<caption>Par catégorie</caption>" in page and "<caption>Par territoire</caption>" in page
    assert '<th scope="row">Collectivité</th>' in page and "ADULM" in page


def test_table_of_contents_links_every_part_and_section(render):
    document = _document([_section("A1", [domain.Item(1, notes_domain.KEY_POINT, "Un point")])], conclusion_md="Fin.",
                         other_sessions=[domain.SessionMention("S9", "Club dev éco", "Réunion", "2019-06-07", "2019-06-07T09:30")])

    page = render(document)

    toc = re.search(r'<nav class="report-toc".*?</nav>', page, re.DOTALL).group(0)
    anchors = re.findall(r'href="#([^"]+)"', toc)
    assert anchors == ["temps-forts", "s-a1", "autres-temps", "conclusion"]
    for anchor in anchors:
        assert f'id="{anchor}"' in page


def test_other_sessions_are_listed_by_title_and_time(render):
    mention = domain.SessionMention("S114", "Club dev éco des centres de ressources", "Réunion", "2019-06-07", "2019-06-07T09:30")
    document = _document([_section(items=[domain.Item(1, notes_domain.KEY_POINT, "Un point")])], other_sessions=[mention])

    page = render(document)

    assert "Autres temps du forum" in page
    others = re.search(r'<ul class="report-others">(.*?)</ul>', page, re.DOTALL).group(1)
    assert "Vendredi 7 juin 2019, 9 h 30" in others and "Club dev éco des centres de ressources" in others


def test_report_without_any_note_still_reads_as_a_report(render):
    document = _document(lead="")

    page = render(document)

    report = _report_part(page).replace("&#39;", "'")
    assert "Retour sur l'événement" in report and "Retour sur le Forum de test" in report
    assert "Aucune note n'a encore été prise" in report
    assert "Les temps forts" not in report and "report-section" not in report
    for heading in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", report, re.DOTALL):
        assert heading.strip()
    assert '<nav class="report-toc"' not in report  # no parts: no contents to list


# --- Drafts and publications -------------------------------------------------------------------


def _quote_document():
    quote = domain.Item(1, notes_domain.QUOTE, "Il faut une méthode.", "Nadia Benali, Chargée de mission, IREV",
                        approval=domain.NOT_ASKED)
    anonymous = domain.Item(2, notes_domain.QUOTE, "Et les petites communes ?", domain.ANONYMOUS, approval=domain.NOT_NEEDED)
    return _document([_section(items=[quote, anonymous])])


def test_draft_shows_a_banner_and_the_consent_of_each_named_quote(render):
    page = render(_quote_document())

    assert '<p class="report-draft-banner" role="note"><strong>Brouillon — non publié</strong></p>' in page
    assert page.count('class="report-approval ') == 1  # the unnamed quote needs no consent
    assert "Accord à demander" in page
    assert "Sans attribution nominative" not in page
    assert "report.pdf" not in page and "report.docx" not in page  # nothing to download yet


def test_publication_has_no_banner_no_consent_badges_and_offers_the_files(render):
    document = _published(_quote_document())

    page = render(document)

    assert "report-draft-banner" not in page and "Brouillon" not in page
    assert "report-approval" not in page and "Accord à demander" not in page
    assert "Version 1 · publié le 14 juin 2019" in page
    for fmt in ("pdf", "docx", "md"):
        assert f'href="/e/forum-test/report.{fmt}"' in page


def test_page_has_no_inline_style_or_script_and_links_its_stylesheet(render):
    page = render(_published(_quote_document()))

    assert not re.search(r"\sstyle=", page)
    assert "<style" not in page
    assert re.search(r'<script(?![^>]*\ssrc=)', page) is None  # only external scripts
    assert re.search(r'<link rel="stylesheet" href="/static/r/[0-9a-f]+/css/report\.css">', page)


def test_standalone_file_inlines_its_styles_and_needs_no_request(app):
    document = _published(_quote_document())

    output = outputs.build(document, "html", photo_url=lambda name: name, photo_path=lambda name: None, standalone=True)

    text = output.data.decode("utf-8")
    assert text.startswith("<!doctype html>")
    assert '<html lang="fr">' in text and "<title>Retour sur le Forum de test</title>" in text
    assert "<style>" in text and ".report-quote" in text and "<link" not in text
    assert "site-header" not in text.split("<style>")[0] + text.split("</style>")[1]
    assert output.filename == "rapport-forum-test-v1.html"


def test_section_macro_shows_one_section_for_other_pages(app):
    html.init_app(app)
    section = _section(items=[domain.Item(1, notes_domain.KEY_POINT, "Des baux <courts>")])

    shown = render_template_string(
        '{% import "report/_document.html" as doc %}{{ doc.section(section, document, photo_url) }}',
        section=section, document=_document([section]), photo_url=lambda name: None,
    )

    assert shown.strip().startswith('<section class="report-section report-section--workshop" id="s-a1"')
    assert "Des baux &lt;courts&gt;" in shown


# --- The public page, end to end ---------------------------------------------------------------


def _session(event, code):
    return db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))


def test_public_page_shows_the_published_report_of_the_demo_notes(client, demo_event, make_user):
    load_demo_notes(demo_event)
    organiser = make_user("organiser", demo_event)
    author = make_user("rapporteur", demo_event)
    session = _session(demo_event, "A1")
    from forum_app.notes.models import RapporteurAssignment

    db.session.add(RapporteurAssignment(user_id=author.id, session_id=session.id))
    db.session.commit()
    notes_services.add_item(demo_event, session, author, {
        "client_id": uuid.uuid4().hex, "kind": "quote", "text": "<b>Une</b> parole\nsur deux lignes",
        "captured_at": datetime(2019, 6, 6, 12, 0, tzinfo=UTC).isoformat(),
    })
    review.start_review(demo_event, organiser)
    services.publish(demo_event, organiser)

    response = client.get(f"/e/{demo_event.slug}/report")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Atelier 1 — Immobilier d&#39;entreprise en QPV" in page
    assert "&lt;b&gt;Une&lt;/b&gt; parole\nsur deux lignes" in page
    assert "Participant·e" in page
    assert "Brouillon" not in page
    assert f'href="/e/{demo_event.slug}/report.pdf"' in page
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert not re.search(r"\sstyle=", page)
