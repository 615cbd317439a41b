"""The report as a Word document: real built-in styles a communication team can work with, a
table of contents field, page numbers, photos, notes as plain text, organisers' Markdown as
formatting and links."""
from __future__ import annotations

import io

import docx
from docx.oxml.ns import qn
from PIL import Image

from forum_app.notes import demo as notes_demo
from forum_app.report import domain, outputs, services
from tests.report_samples import sample_document, sample_section

W_HYPERLINK = qn("w:hyperlink")
R_ID = qn("r:id")


# --- documents built by hand --------------------------------------------------------------------


def _section(**overrides) -> domain.Section:
    items = [
        domain.Item(1, "key_point", "Un point clé à retenir"),
        domain.Item(2, "figure", "40 % des locaux sont vacants"),
        domain.Item(3, "quote", "Un local vide coûte plus cher.", "Claire Roussel, Responsable, Banque des Territoires",
                    approval=domain.APPROVED),
        domain.Item(4, "proposal", "Un référent par intercommunalité"),
        domain.Item(5, "question", "Comment suivre les effets ?"),
    ]
    return sample_section(overrides.pop("items", items), **overrides)


def _document(**overrides) -> domain.Document:
    sections = overrides.pop("sections", [_section()])
    return sample_document(sections, overrides.pop("lead", "Une journée pour parler d'économie dans les quartiers."), **overrides)


def _jpeg(path, size=(1600, 1067), colour=(30, 90, 160)):
    Image.new("RGB", size, colour).save(path, "JPEG", quality=80)
    return path


def _build(document: domain.Document, photo_path=lambda name: None) -> docx.document.Document:
    output = outputs.build(document, "docx", photo_url=lambda name: f"/photos/{name}", photo_path=photo_path)
    assert output.mimetype.startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    return docx.Document(io.BytesIO(output.data))


def _styled(word, style: str) -> list[str]:
    return [p.text for p in word.paragraphs if p.style.name == style]


def _paragraph_after(word, text: str):
    paragraphs = word.paragraphs
    index = next(i for i, p in enumerate(paragraphs) if text in p.text)
    return paragraphs[index + 1]


# --- structure and styles -----------------------------------------------------------------------


def test_word_uses_built_in_styles_for_title_sections_blocks_and_lists(app):
    document = _document(sections=[_section(), _section(session_id=2, code="A2", title="Atelier 2 — Entreprendre")])

    word = _build(document)

    assert _styled(word, "Title") == ["Retour sur le Forum test"]
    assert _styled(word, "Subtitle") == ["Une journée pour parler d'économie dans les quartiers."]
    assert _styled(word, "Heading 2") == ["Atelier 1 — Immobilier d'entreprise", "Atelier 2 — Entreprendre"]
    assert "Les temps forts" in _styled(word, "Heading 1")
    headings_3 = _styled(word, "Heading 3")
    assert headings_3[:5] == [
        "Ce qu'il faut retenir", "Chiffres clés", "Paroles d'intervenant·e·s", "Propositions", "Questions de la salle",
    ]
    bullets = _styled(word, "List Bullet")
    assert "Un point clé à retenir" in bullets
    assert "Un référent par intercommunalité" in bullets
    assert "Comment suivre les effets ?" in bullets


def test_word_session_shows_kind_time_room_and_people(app):
    word = _build(_document())

    info = _styled(word, "Informations de session")

    assert "Atelier · Jeudi 6 juin 2019, 11 h 30 – 13 h 00 · Salle Vilaine" in info
    assert "Claire Roussel, Responsable, Banque des Territoires — Intervenante" in info


def test_word_quote_is_in_quote_style_with_its_attribution_right_after(app):
    highlighted = domain.Item(9, "quote", "Il faut fixer un cap.", "Jamal Khay, Chef de service, CU Dunkerque",
                              highlighted=True, approval=domain.APPROVED)
    section = _section(items=[*_section().items, highlighted])

    word = _build(_document(sections=[section], status=domain.PUBLISHED, number=1, published_at="2019-06-14T09:00:00+00:00"))

    quotes = [p for p in word.paragraphs if "local vide" in p.text]
    assert [p.style.name for p in quotes] == ["Quote"]
    assert _paragraph_after(word, "local vide").text == "— Claire Roussel, Responsable, Banque des Territoires"
    assert _paragraph_after(word, "local vide").style.name == "Attribution de citation"
    assert [p.style.name for p in word.paragraphs if "fixer un cap" in p.text] == ["Intense Quote"]
    assert _paragraph_after(word, "fixer un cap").text == "— Jamal Khay, Chef de service, CU Dunkerque"


def test_word_quote_without_attribution_reads_participant(app):
    section = _section(items=[domain.Item(1, "quote", "On ne lâche rien.", "")])

    word = _build(_document(sections=[section]))

    assert _paragraph_after(word, "On ne lâche rien.").text == "— Participant·e"


def test_word_draft_shows_each_quote_consent_and_a_draft_cover(app):
    section = _section(items=[domain.Item(1, "quote", "À valider.", "Karim B., Élu", approval=domain.NOT_ASKED)])

    word = _build(_document(sections=[section]))

    assert _paragraph_after(word, "À valider.").text == "— Karim B., Élu (Accord à demander)"
    assert "Brouillon — non publié" in [p.text for p in word.paragraphs[:10]]
    assert "Brouillon — non publié" in word.sections[-1].header.paragraphs[0].text


def test_word_published_cover_gives_version_and_date(app):
    document = _document(status=domain.PUBLISHED, number=2, published_at="2019-06-14T09:00:00+00:00")

    word = _build(document)

    cover = [p.text for p in word.paragraphs[:10]]
    assert "Version 2 · publié le 14 juin 2019" in cover
    assert "6 juin 2019 · Rennes" in cover
    assert "Organisé par RésOVilles" in cover
    assert "Brouillon" not in word.sections[-1].header.paragraphs[0].text


def test_word_has_a_table_of_contents_field_page_numbers_and_the_title_in_the_header(app):
    word = _build(_document())

    instructions = [el.text for el in word.element.body.iter(qn("w:instrText"))]
    assert any(text.strip().startswith('TOC \\o "1-2"') for text in instructions)
    assert "Sommaire" in _styled(word, "TOC Heading")
    assert "Atelier 1 — Immobilier d'entreprise" in _styled(word, "toc 2")  # shown until Word updates the field
    body = word.sections[-1]
    assert body.header.paragraphs[0].text.startswith("Retour sur le Forum test")
    footer_fields = [el.text.strip() for el in body.footer._element.iter(qn("w:instrText"))]
    assert footer_fields == ["PAGE"]


def test_word_document_language_and_properties_are_the_events(app):
    word = _build(_document())

    defaults = word.styles.element.find(qn("w:docDefaults"))
    lang = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:lang"))
    assert lang.get(qn("w:val")) == "fr-FR"
    assert word.core_properties.title == "Retour sur le Forum test"
    assert word.core_properties.author == "RésOVilles"
    assert word.core_properties.language == "fr-FR"


# --- plain notes, Markdown fields ---------------------------------------------------------------


def test_word_note_markup_stays_literal_text_with_its_line_breaks(app):
    typed = "<b>pas gras</b> **ni ça** # ni un titre\nseconde ligne"
    section = _section(items=[domain.Item(1, "key_point", typed)])

    word = _build(_document(sections=[section]))

    paragraph = next(p for p in word.paragraphs if "pas gras" in p.text)
    assert paragraph.style.name == "List Bullet"
    assert paragraph.text == typed
    assert not any(run.bold for run in paragraph.runs)
    assert len(paragraph._p.findall(".//" + qn("w:br"))) == 1


def test_word_note_with_control_characters_still_builds(app):
    section = _section(items=[domain.Item(1, "key_point", "bip\x07 et\x00 fin")])

    word = _build(_document(sections=[section]))

    assert "bip et fin" in _styled(word, "List Bullet")


def test_word_markdown_introduction_becomes_bold_runs_real_links_and_lists(app):
    introduction = (
        "Un forum **important** et *vivant*.\n\n"
        "Voir [le site](https://example.org/forum) ou [ceci](javascript:alert(1)).\n\n"
        "# Un titre\n\n"
        "- premier\n- second\n\n"
        "1. un\n2. deux\n\n"
        "> une citation\n\n"
        "<script>alert(1)</script>"
    )

    word = _build(_document(introduction_md=introduction))

    bold = [run.text for p in word.paragraphs for run in p.runs if run.bold]
    assert "important" in bold
    links = [el for el in word.element.body.iter(W_HYPERLINK) if el.get(R_ID)]
    targets = [word.part.rels[el.get(R_ID)].target_ref for el in links]
    assert targets == ["https://example.org/forum"]
    link_paragraph = next(p for p in word.paragraphs if "le site" in p.text)
    assert "[ceci](javascript:alert(1))" in link_paragraph.text
    assert "Un titre" in _styled(word, "Heading 3")
    assert {"premier", "second"} <= set(_styled(word, "List Bullet"))
    assert _styled(word, "List Number") == ["un", "deux"]
    assert "une citation" in _styled(word, "Quote")
    assert "<script>alert(1)</script>" in [p.text for p in word.paragraphs]  # shown, never run


def test_word_each_numbered_list_counts_from_its_own_start(app):
    word = _build(_document(introduction_md="1. a\n2. b", conclusion_md="1. c\n2. d"))

    numbered = [p for p in word.paragraphs if p.style.name == "List Number"]
    num_ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert num_ids[0] == num_ids[1] != num_ids[2] == num_ids[3]


# --- photos -------------------------------------------------------------------------------------


def test_word_photos_are_embedded_at_text_width_with_caption_and_credit(app, tmp_path):
    files = {"a.jpg": _jpeg(tmp_path / "a.jpg"), "b.jpg": _jpeg(tmp_path / "b.jpg", colour=(200, 40, 40))}
    photo_a = domain.Photo("a.jpg", 1600, 1067, "La salle comble", "Jeanne Photo")
    photo_b = domain.Photo("b.jpg", 1600, 1067, "Les ateliers", "")
    section = _section(items=[
        domain.Item(10, "photo", "La salle comble", photo=photo_a),
        domain.Item(11, "photo", "Les ateliers", photo=photo_b),
    ])

    word = _build(_document(sections=[section], cover=photo_a), photo_path=files.get)

    assert len(word.inline_shapes) == 3  # the cover and the two photos
    assert abs(word.inline_shapes[1].width.cm - 16.0) < 0.01
    image_parts = {rel.target_part.partname for rel in word.part.rels.values() if "image" in rel.reltype}
    assert len(image_parts) == 2  # the cover's file is embedded once
    captions = _styled(word, "Caption")
    assert "La salle comble — Crédit : Jeanne Photo" in captions
    assert "Les ateliers" in captions


def test_word_missing_photo_file_is_left_out_without_error(app, tmp_path):
    photo = domain.Photo("gone.jpg", 1600, 1067, "Disparue", "X")
    section = _section(items=[*_section().items, domain.Item(10, "photo", "Disparue", photo=photo)])

    word = _build(_document(sections=[section], cover=photo), photo_path=lambda name: tmp_path / "nowhere.jpg")

    assert len(word.inline_shapes) == 0
    assert "Disparue — Crédit : X" not in _styled(word, "Caption")


# --- attendance ---------------------------------------------------------------------------------


def test_word_attendance_tables_have_a_repeating_header_row(app):
    attendance = domain.Attendance(
        registered=12, present=10, organisations=8,
        by_category=[domain.CountRow("Collectivité", 6, 4), domain.CountRow("Association", 3, 3)],
        by_territory=[domain.CountRow("Hauts-de-France", 5, 5)],
        delegations=[domain.DelegationRow("Délégation HDF", "Hauts-de-France", 12, 10, ["ADULM", "IREV"])],
    )

    word = _build(_document(attendance=attendance))

    headings = _styled(word, "Heading 1")
    assert "Le forum en chiffres" in headings and "Les délégations" in headings
    by_category = next(t for t in word.tables if t.cell(0, 0).text == "Catégorie")
    assert [c.text for c in by_category.rows[1].cells] == ["Collectivité", "6", "4"]
    for table in word.tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    delegations = next(t for t in word.tables if t.cell(0, 0).text == "Délégation")
    assert delegations.cell(1, 4).text == "ADULM, IREV"


# --- empty and real reports ---------------------------------------------------------------------


def test_word_empty_report_builds_and_says_there_are_no_notes_yet(app):
    document = _document(sections=[], lead="", organised_by="")

    word = _build(document)

    texts = [p.text for p in word.paragraphs]
    assert "Aucune note n'a encore été prise : le rapport se remplira avec les notes des rapporteurs." in texts
    paragraphs = word.paragraphs
    for index, paragraph in enumerate(paragraphs):
        if paragraph.style.name.startswith("Heading"):
            assert paragraph.text.strip()
            following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
            assert following is not None and following.text.strip()


def test_word_demo_report_has_every_section_in_order_with_attributed_quotes(demo_event):
    notes_demo.load_demo_notes(demo_event)
    document = services.draft_document(demo_event)

    word = _build(document, photo_path=services.photo_resolver(demo_event))

    assert _styled(word, "Heading 2") == [section.title for section in document.sections]
    quotes = [p for p in word.paragraphs if p.style.name in ("Quote", "Intense Quote")]
    expected = [i for s in document.sections for i in s.items if i.kind == "quote"]
    assert len(quotes) == len(expected) > 0
    paragraphs = word.paragraphs
    for quote in quotes:
        index = next(i for i, p in enumerate(paragraphs) if p._p is quote._p)
        assert paragraphs[index + 1].style.name == "Attribution de citation"
        assert paragraphs[index + 1].text.startswith("— ")


def test_word_english_event_is_spell_checked_in_english_with_english_quote_marks(app):
    document = _document(event=domain.EventFacts("f", "Forum", "2019-06-06", "2019-06-06", language="en"))

    word = _build(document)

    assert word.core_properties.language == "en-US"
    assert "“Un local vide coûte plus cher.”" in _styled(word, "Quote")
