"""The report as Markdown: what was typed in notes stays literal text once a forge renders it;
the organisers' Markdown keeps its formatting below the report's own headings."""
from __future__ import annotations

import re

from markdown_it import MarkdownIt

from forum_app.notes import demo as notes_demo
from forum_app.report import domain, outputs, services
from tests.report_samples import sample_document, sample_section

# How a forge renders it: CommonMark with raw HTML allowed, plus GitHub's tables and strikethrough.
FORGE = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

NASTY = [
    "<script>alert(1)</script>",
    "**bold**",
    "[x](javascript:alert(1))",
    "# not a heading",
    "| pipe | in | text |",
    "1986. Une année",
    "- pas une liste",
    "&amp; &lt;b&gt;",
    "`code` ~~barré~~ _souligné_",
    "<https://example.org>",
]


def _section(**overrides) -> domain.Section:
    items = [
        domain.Item(1, "key_point", "Un point clé à retenir"),
        domain.Item(2, "quote", "Un local vide coûte plus cher.", "Claire Roussel, Responsable, Banque des Territoires",
                    approval=domain.APPROVED),
        domain.Item(3, "proposal", "Un référent par intercommunalité"),
    ]
    return sample_section(overrides.pop("items", items), **overrides)


def _document(**overrides) -> domain.Document:
    sections = overrides.pop("sections", [_section()])
    return sample_document(sections, overrides.pop("lead", "Une journée pour parler d'économie."), **overrides)


def _markdown(document: domain.Document) -> str:
    output = outputs.build(
        document, "md", photo_url=lambda name: f"https://forum.example/photos/{name}", photo_path=lambda name: None
    )
    assert output.mimetype == "text/markdown; charset=utf-8"
    return output.data.decode("utf-8")


def _html(text: str) -> str:
    return FORGE.render(text)


def _headings(text: str) -> list[tuple[int, str]]:
    found, level = [], None
    for token in FORGE.parse(text):
        if token.type == "heading_open":
            level = int(token.tag[1:])
        elif token.type == "inline" and level is not None:
            found.append((level, token.content))
            level = None
    return found


# --- escaping what was typed --------------------------------------------------------------------


def test_markdown_note_text_renders_as_literal_text(app):
    items = [domain.Item(i, "key_point", text) for i, text in enumerate(NASTY, start=1)]
    items.append(domain.Item(99, "quote", "\n".join(NASTY), "<i>Nom</i> | **Org**"))

    text = _markdown(_document(sections=[_section(items=items)]))
    html = _html(text)

    assert "<script" not in html and "<strong>bold" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "**bold**" in html
    assert "[x](javascript:alert(1))" in html
    assert "<li># not a heading</li>" in html
    assert "<li>| pipe | in | text |</li>" in html
    assert "<li>1986. Une année</li>" in html
    assert "<li>- pas une liste</li>" in html
    assert "&amp;amp; &amp;lt;b&amp;gt;" in html
    assert "`code` ~~barré~~ _souligné_" in html
    assert "<table" not in html
    assert [title for _, title in _headings(text)][-3:] == [
        "Atelier 1 — Immobilier d'entreprise", "Ce qu'il faut retenir", "Paroles d'intervenant·e·s",
    ]
    assert "— &lt;i&gt;Nom&lt;/i&gt; | **Org**" in html
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', html))  # the contents' links only


def test_markdown_titles_and_captions_are_escaped_too(app):
    section = _section(
        title="# Atelier <b>1</b> | *rouge*",
        items=[domain.Item(1, "photo", "x", photo=domain.Photo("a.jpg", 10, 10, "[clic](javascript:x) <img>", "**Moi**"))],
    )

    text = _markdown(_document(sections=[section], title="Forum <script>"))
    html = _html(text)

    assert "<h1>Forum &lt;script&gt;</h1>" in html
    assert "<h3># Atelier &lt;b&gt;1&lt;/b&gt; | *rouge*</h3>" in html
    assert html.count("<img") == 1 and '<img src="https://forum.example/photos/a.jpg" alt="' in html
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', html))
    assert "<em>[clic](javascript:x) &lt;img&gt; — Crédit : **Moi**</em>" in html
    assert "Crédit : **Moi**" in html


def test_markdown_table_cell_with_a_pipe_stays_one_cell(app):
    attendance = domain.Attendance(
        registered=3, present=2, by_category=[domain.CountRow("Élu | élue", 3, 2)], organisations=0
    )

    html = _html(_markdown(_document(attendance=attendance)))

    assert "<td>Élu | élue</td>" in html
    assert '<td style="text-align:right">3</td>' in html


# --- structure ----------------------------------------------------------------------------------


def test_markdown_headings_follow_the_report_outline(app):
    attendance = domain.Attendance(registered=12, present=10, by_category=[domain.CountRow("Collectivité", 6, 4)])
    document = _document(
        introduction_md="Intro.",
        conclusion_md="Fin.",
        next_steps_md="- Club dev éco",
        links_md="- [Site](https://example.org)",
        attendance=attendance,
        other_sessions=[domain.SessionMention("S9", "Déjeuner-débat", "Réunion", "2019-06-06", "2019-06-06T12:30", "Hall")],
    )

    text = _markdown(document)

    assert _headings(text) == [
        (1, "Retour sur le Forum test"),
        (2, "Sommaire"),
        (2, "Introduction"),
        (2, "Le forum en chiffres"),
        (3, "Par catégorie"),
        (2, "Les temps forts"),
        (3, "Atelier 1 — Immobilier d'entreprise"),
        (4, "Ce qu'il faut retenir"),
        (4, "Paroles d'intervenant·e·s"),
        (4, "Propositions"),
        (2, "Autres temps du forum"),
        (2, "Conclusion"),
        (2, "Suites et prochaines étapes"),
        (2, "Pour aller plus loin"),
    ]
    assert "- **Déjeuner-débat** — Réunion, Jeudi 6 juin 2019, 12 h 30, Hall" in text


def test_markdown_contents_link_to_the_heading_anchors_a_forge_makes(app):
    text = _markdown(_document(introduction_md="Intro."))

    assert "- [Introduction](#introduction)" in text
    assert "- [Les temps forts](#les-temps-forts)" in text
    assert "  - [Atelier 1 — Immobilier d'entreprise](#atelier-1--immobilier-dentreprise)" in text


def test_markdown_session_gives_time_room_people_quotes_and_photos(app):
    photo = domain.Photo("salle.jpg", 1600, 1067, "La salle comble", "Jeanne Photo")
    section = _section(items=[*_section().items, domain.Item(9, "photo", "La salle comble", photo=photo)])

    text = _markdown(_document(sections=[section], status=domain.PUBLISHED, number=1, published_at="2019-06-14T09:00:00"))

    assert "Atelier · Jeudi 6 juin 2019, 11 h 30 – 13 h 00 · Salle Vilaine" in text
    assert "- Claire Roussel, Responsable, Banque des Territoires — Intervenante" in text
    assert "> «\u00a0Un local vide coûte plus cher.\u00a0»\n>\n> — Claire Roussel, Responsable, Banque des Territoires\n" in text
    assert "![La salle comble](https://forum.example/photos/salle.jpg)\\\n*La salle comble — Crédit : Jeanne Photo*" in text
    assert "*Version 1 · publié le 14 juin 2019*" in text
    assert "Brouillon" not in text


def test_markdown_draft_starts_with_a_banner_and_shows_quote_consent(app):
    items = [
        domain.Item(1, "quote", "À valider.", "Karim B., Élu", approval=domain.NOT_ASKED),
        domain.Item(2, "quote", "Sans nom.", "", approval=domain.NOT_NEEDED),
    ]

    text = _markdown(_document(sections=[_section(items=items)]))

    assert text.startswith("> **Brouillon — non publié**\n\n# Retour sur le Forum test")
    assert "> — Karim B., Élu *(Accord à demander)*" in text
    assert "> — Participant·e\n" in text  # nobody named: no consent to show


def test_markdown_organiser_fields_keep_formatting_below_the_report_headings(app):
    introduction = (
        "# Grand titre\n\nDu **gras**, un [lien](https://example.org) et [un piège](javascript:alert(1)).\n\n"
        "Sous-titre\n==========\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[ref]: javascript:alert(2)\n\n[x][ref] et <javascript:alert(3)> et <https://example.org/auto>\n\n"
        "```\n<garde> ce code\n```"
    )

    text = _markdown(_document(introduction_md=introduction))
    html = _html(text)

    assert (4, "Grand titre") in _headings(text) and (4, "Sous-titre") in _headings(text)
    assert "<strong>gras</strong>" in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "https://example.org" in hrefs and "https://example.org/auto" in hrefs
    assert not [href for href in hrefs if "javascript" in href.lower()]
    assert "<script" not in html and "<img" not in html
    assert "&lt;garde&gt; ce code" in html


def test_markdown_empty_report_says_there_are_no_notes_yet(app):
    text = _markdown(_document(sections=[], lead=""))

    no_notes = "Aucune note n'a encore été prise : le rapport se remplira avec les notes des rapporteurs."
    assert f"## Les temps forts\n\n{no_notes}" in text
    assert [level for level, _ in _headings(text)] == [1, 2, 2]


def test_markdown_demo_report_lists_every_section_in_order(demo_event):
    notes_demo.load_demo_notes(demo_event)
    document = services.draft_document(demo_event)

    text = _markdown(document)

    sections = [title for level, title in _headings(text) if level == 3 and title not in ("Par catégorie", "Par territoire")]
    assert sections == [section.title for section in document.sections]
    quotes = sum(1 for s in document.sections for i in s.items if i.kind == "quote")
    assert text.count("\n>\n> — ") == quotes > 0
    assert "<script" not in _html(text)
