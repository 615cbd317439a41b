"""The organisers' report editor: what it changes in the report (and never in the notes), its
conflicts and refusals, the Markdown preview, the workflow up to publication and withdrawal."""
from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime

import lxml.html
import pytest
from PIL import Image

from forum_app.errors import Forbidden, InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.notes import photos
from forum_app.notes import services as notes_services
from forum_app.notes.domain import TEXT_MAX
from forum_app.notes.models import NoteItem, RapporteurAssignment
from forum_app.programme.models import Event, Session
from forum_app.report import domain, editing, review, services
from forum_app.report.models import Report, ReportSection, ReportSnapshot

CAPTURED = datetime(2019, 6, 6, 9, 40, tzinfo=UTC)


# --- the world ---------------------------------------------------------------------------------


def _session(event, code) -> Session:
    return db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))


def _page(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def _text(element) -> str:
    return " ".join(_plain(element.text_content()).split())


def _plain(text: str) -> str:
    """French number spacing (narrow no-break spaces) as plain spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


class Notes:
    """Items written through the real notes service, as a rapporteur's device would."""

    def __init__(self, event, author, writer=None):
        self.event, self.author, self.writer = event, author, writer or author

    def _author(self, session):
        return self.author if notes_services.can_write(self.author, session) else self.writer

    def add(self, code="A1", kind="key_point", text="Le foncier d'activité manque.", **extra) -> NoteItem:
        body = {"client_id": uuid.uuid4().hex, "kind": kind, "text": text, "captured_at": CAPTURED.isoformat(), **extra}
        session = _session(self.event, code)
        answer = notes_services.add_item(self.event, session, self._author(session), body).item
        return db.session.get(NoteItem, answer["id"])

    def photo(self, code="A1", caption="Visite du chantier", event=None) -> NoteItem:
        event = event or self.event
        out = io.BytesIO()
        Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "JPEG")
        out.seek(0)
        stored = photos.store(event.id, out)
        body = {"client_id": uuid.uuid4().hex, "kind": "photo", "text": caption, "captured_at": CAPTURED.isoformat()}
        session = _session(event, code)
        saved = notes_services.add_item(event, session, self._author(session), body, photo={**stored, "credit": "Camille Martin"})
        return db.session.get(NoteItem, saved.item["id"])

    def edit(self, note, **changes) -> None:
        version = db.session.get(NoteItem, note.id).version
        notes_services.edit_item(self.event, note.id, self._author(note.session), {"version": version, **changes})


@pytest.fixture
def uploads(app, tmp_path):
    app.config["NOTES_UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.fixture
def organiser(demo_event, make_user):
    return make_user("organiser", demo_event)


@pytest.fixture
def rapporteur(demo_event, make_user):
    user = make_user("rapporteur", demo_event)
    for code in ("A1", "A2"):
        db.session.add(RapporteurAssignment(user_id=user.id, session_id=_session(demo_event, code).id))
    db.session.commit()
    return user


@pytest.fixture
def notes(demo_event, rapporteur, uploads, make_user):
    """Notes by the rapporteur of A1 and A2; elsewhere by an organiser (sessions without a rapporteur)."""
    return Notes(demo_event, rapporteur, make_user("organiser", demo_event))


@pytest.fixture
def as_organiser(client, login, organiser):
    login(organiser)
    return client


def _draft_items(event, code="A1") -> list[domain.Item]:
    section = next((s for s in services.draft_document(event).sections if s.code == code), None)
    return section.items if section else []


def _note_state(note_id: int) -> tuple:
    db.session.expire_all()
    note = db.session.get(NoteItem, note_id)
    return (note.kind, note.text, note.position, note.version, note.highlighted, note.in_report, note.deleted_at,
            note.attribution_name, note.updated_at, note.change_seq, len(note.revisions))


def _report(event) -> Report:
    db.session.expire_all()
    return db.session.scalar(db.select(Report).filter_by(event_id=event.id))


def _settings(**changes) -> dict:
    base = {
        "title": "Retour sur Cités Cap", "lead": "", "organised_by": "RésOVilles", "introduction_md": "",
        "conclusion_md": "", "next_steps_md": "", "links_md": "", "show_attendance": True, "show_delegations": True,
        "empty_sessions": "list", "refused_quotes": "drop",
    }
    return {**base, **changes}


def _form(**changes) -> dict:
    """The settings form as a browser posts it (checkboxes absent when unticked)."""
    data = {key: value for key, value in _settings(**changes).items() if not isinstance(value, bool)}
    data.update({key: "y" for key, value in _settings(**changes).items() if value is True})
    return data


# --- editing changes the report, never the notes -----------------------------------------------


def test_editing_items_changes_the_draft_but_never_the_note(demo_event, organiser, notes):
    first = notes.add(text="Premier point.")
    second = notes.add(text="Deuxième point.")
    before = {n.id: _note_state(n.id) for n in (first, second)}

    editing.set_item(demo_event, first.id, organiser, text="Premier point, réécrit pour le rapport.")
    editing.move_item(demo_event, second.id, organiser, "up")
    editing.set_item(demo_event, first.id, organiser, hidden=True)
    editing.save_section(demo_event, _session(demo_event, "A1").id, organiser, {"title": "L'immobilier", "summary_md": "En bref."})

    assert {n.id: _note_state(n.id) for n in (first, second)} == before
    assert [i.text for i in _draft_items(demo_event)] == ["Deuxième point."]
    editing.set_item(demo_event, first.id, organiser, hidden=False)
    assert [i.text for i in _draft_items(demo_event)] == ["Deuxième point.", "Premier point, réécrit pour le rapport."]
    assert {n.id: _note_state(n.id) for n in (first, second)} == before


def test_empty_or_unchanged_text_means_the_notes_own_words(demo_event, organiser, notes):
    note = notes.add(text="Le texte de la note.")

    row = editing.set_item(demo_event, note.id, organiser, text="  Le texte de la note.  ")
    assert row.text is None
    editing.set_item(demo_event, note.id, organiser, text="Réécrit.")
    assert [i.text for i in _draft_items(demo_event)] == ["Réécrit."]
    editing.set_item(demo_event, note.id, organiser, text="   ")
    notes.edit(note, text="La note corrigée par son rapporteur.")

    assert [i.text for i in _draft_items(demo_event)] == ["La note corrigée par son rapporteur."]


def test_reset_text_brings_back_the_note(demo_event, organiser, notes):
    note = notes.add(text="Original.")
    editing.set_item(demo_event, note.id, organiser, text="Réécrit.")

    editing.set_item(demo_event, note.id, organiser, reset_text=True)

    assert [i.text for i in _draft_items(demo_event)] == ["Original."]


def test_overlong_item_text_is_refused_and_nothing_is_cut(demo_event, organiser, notes):
    note = notes.add(text="Original.")

    with pytest.raises(InvalidInput) as refused:
        editing.set_item(demo_event, note.id, organiser, text="x" * (TEXT_MAX + 1))

    assert "5 000" in _plain(refused.value.message) and "Texte dans le rapport" in refused.value.message
    assert [i.text for i in _draft_items(demo_event)] == ["Original."]


# --- the report's own fields -------------------------------------------------------------------


def test_saving_settings_changes_the_document_and_bumps_the_version(demo_event, organiser):
    version = services.get_report(demo_event).version

    editing.save_settings(demo_event, organiser, _settings(introduction_md="## Le fil conducteur"), version=version)

    report = _report(demo_event)
    assert report.version == version + 1
    document = services.draft_document(demo_event)
    assert (document.title, document.organised_by, document.introduction_md) == (
        "Retour sur Cités Cap", "RésOVilles", "## Le fil conducteur")


def test_saving_the_same_values_changes_nothing(demo_event, organiser):
    editing.save_settings(demo_event, organiser, _settings(), version=1)
    version = _report(demo_event).version

    editing.save_settings(demo_event, organiser, _settings(), version=version)

    assert _report(demo_event).version == version


def test_stale_settings_version_is_a_conflict_carrying_the_saved_values(demo_event, organiser, make_user):
    colleague = make_user("organiser", demo_event)
    editing.save_settings(demo_event, colleague, _settings(conclusion_md="Celle de ma collègue."), version=1)

    with pytest.raises(editing.SettingsConflict) as conflict:
        editing.save_settings(demo_event, organiser, _settings(conclusion_md="La mienne."), version=1)

    assert conflict.value.current["conclusion_md"] == "Celle de ma collègue."
    assert conflict.value.version == 2 and conflict.value.updated_by_id == colleague.id
    assert _report(demo_event).conclusion_md == "Celle de ma collègue."


@pytest.mark.parametrize(
    ("field", "limit", "label"),
    [("title", domain.TITLE_MAX, "Titre du rapport"), ("lead", domain.LEAD_MAX, "Chapeau"),
     ("introduction_md", domain.MARKDOWN_MAX, "Introduction"), ("links_md", domain.MARKDOWN_MAX, "Pour aller plus loin")],
)
def test_overlong_settings_are_refused_naming_the_field_and_the_limit(demo_event, organiser, field, limit, label):
    with pytest.raises(editing.InvalidFields) as refused:
        editing.save_settings(demo_event, organiser, _settings(**{field: "a" * (limit + 1)}), version=1)

    message = refused.value.errors[field]
    assert label in message and f"{limit:,}".replace(",", " ") in _plain(message)
    assert _report(demo_event) is None or getattr(_report(demo_event), field) == ""


def test_unknown_choice_is_refused(demo_event, organiser):
    with pytest.raises(editing.InvalidFields) as refused:
        editing.save_settings(demo_event, organiser, _settings(empty_sessions="everything"), version=1)

    assert "empty_sessions" in refused.value.errors


def test_only_organisers_edit_the_report(demo_event, rapporteur, notes):
    note = notes.add()

    with pytest.raises(Forbidden):
        editing.set_item(demo_event, note.id, rapporteur, hidden=True)
    with pytest.raises(Forbidden):
        editing.save_settings(demo_event, rapporteur, _settings(), version=1)


# --- hiding and moving -------------------------------------------------------------------------


def test_hidden_items_and_sections_are_absent_from_the_draft(demo_event, organiser, notes):
    kept = notes.add("A1", text="Gardé.")
    hidden = notes.add("A1", text="Masqué.")
    notes.add("A2", text="Dans une section masquée.")

    editing.set_item(demo_event, hidden.id, organiser, hidden=True)
    editing.save_section(demo_event, _session(demo_event, "A2").id, organiser, {"hidden": True})

    document = services.draft_document(demo_event)
    assert [s.code for s in document.sections] == ["A1"]
    assert [i.id for i in document.sections[0].items] == [kept.id]
    assert "A2" not in {m.code for m in document.other_sessions}


def test_moving_an_item_changes_the_order_within_its_block_only(demo_event, organiser, notes):
    one = notes.add(text="Un.")
    quote = notes.add(kind="quote", text="Une citation.")
    notes.add(text="Deux.")
    three = notes.add(text="Trois.")

    assert editing.move_item(demo_event, three.id, organiser, "up") is True
    assert editing.move_item(demo_event, one.id, organiser, "up") is False  # already first of its block

    section = services.draft_document(demo_event).sections[0]
    assert [i.text for i in section.of_kind("key_point")] == ["Un.", "Trois.", "Deux."]
    assert [k for k, _ in section.blocks()] == ["key_point", "quote"]
    assert quote.id in {i.id for i in section.items}


def test_moving_sections_changes_the_report_order_and_writes_every_position(demo_event, organiser, notes):
    for code in ("A1", "A2", "A3"):
        notes.add(code, text=f"Point de {code}.")
    before = [s.code for s in services.draft_document(demo_event).sections]

    assert editing.move_section(demo_event, _session(demo_event, "A3").id, organiser, "up") is True

    after = [s.code for s in services.draft_document(demo_event).sections]
    assert after.index("A3") == before.index("A3") - 1 and after.index("A2") == before.index("A2") + 1
    positions = db.session.scalars(db.select(ReportSection.position)).all()
    assert len(positions) == len(demo_event.sessions) and None not in positions
    first = _session(demo_event, before[0]).id
    assert editing.move_section(demo_event, first, organiser, "up") is False


def test_moving_skips_sessions_without_content(demo_event, organiser, notes):
    notes.add("A1", text="Atelier 1.")
    notes.add("S103", text="Table ronde.")  # several sessions without notes sit between them

    editing.move_section(demo_event, _session(demo_event, "A1").id, organiser, "up")

    assert [s.code for s in services.draft_document(demo_event).sections] == ["A1", "S103"]


def test_an_unknown_direction_is_refused(demo_event, organiser, notes):
    note = notes.add()

    with pytest.raises(InvalidInput):
        editing.move_item(demo_event, note.id, organiser, "sideways")


# --- cover ----------------------------------------------------------------------------------------


@pytest.fixture
def other_event(app):
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2020, 1, 1), end_date=date(2020, 1, 1))
    db.session.add(other)
    db.session.flush()
    db.session.add(Session(event_id=other.id, code="X1", title="Autre session", kind="workshop",
                           starts_at=datetime(2020, 1, 1, 9, tzinfo=UTC), ends_at=datetime(2020, 1, 1, 10, tzinfo=UTC)))
    db.session.commit()
    return other


def test_the_cover_is_one_of_this_events_photos(demo_event, organiser, notes, other_event, make_user):
    photo = notes.photo(caption="La salle pleine")
    point = notes.add(text="Pas une photo.")
    elsewhere = Notes(other_event, make_user("organiser", other_event)).photo("X1")

    editing.set_cover(demo_event, photo.id, organiser)
    assert services.draft_document(demo_event).cover.caption == "La salle pleine"
    with pytest.raises(InvalidInput):
        editing.set_cover(demo_event, point.id, organiser)
    with pytest.raises(NotFound):
        editing.set_cover(demo_event, elsewhere.id, organiser)
    assert services.draft_document(demo_event).cover.file == photo.photo_file

    editing.set_cover(demo_event, None, organiser)
    assert services.draft_document(demo_event).cover is None


def test_another_events_items_and_sessions_are_not_found(demo_event, organiser, other_event, make_user, as_organiser):
    elsewhere = Notes(other_event, make_user("organiser", other_event)).add("X1", text="Ailleurs.")
    before = _note_state(elsewhere.id)
    other_session = _session(other_event, "X1")

    with pytest.raises(NotFound):
        editing.set_item(demo_event, elsewhere.id, organiser, hidden=True)
    with pytest.raises(NotFound):
        editing.move_item(demo_event, elsewhere.id, organiser, "up")
    with pytest.raises(NotFound):
        editing.save_section(demo_event, other_session.id, organiser, {"hidden": True})
    base = f"/e/{demo_event.slug}/admin/report"
    assert as_organiser.post(f"{base}/items/{elsewhere.id}/text", data={"text": "Piraté."}).status_code == 404
    assert as_organiser.post(f"{base}/items/{elsewhere.id}/visibility", data={"hidden": "1"}).status_code == 404
    assert as_organiser.post(f"{base}/items/{elsewhere.id}/move", data={"direction": "up"}).status_code == 404
    assert as_organiser.post(f"{base}/cover", data={"item_id": str(elsewhere.id)}).status_code == 404
    assert as_organiser.get(f"{base}/s/X1").status_code == 404
    assert _note_state(elsewhere.id) == before


# --- pages ---------------------------------------------------------------------------------------


def test_overview_lists_sections_in_report_order_with_their_state(demo_event, notes, as_organiser):
    notes.add("A1", text="Atelier 1.")
    notes.add("S103", text="Table ronde.")

    response = as_organiser.get(f"/e/{demo_event.slug}/admin/report")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = _page(response)
    assert "Brouillon" in _text(page.get_element_by_id("etat"))
    rows = page.xpath("//ol[@class='editor-sections']/li")
    assert [r.get("id") for r in rows] == ["section-S103", "section-A1"]
    assert "À valider" in _text(rows[0]) and "1 élément affiché" in _text(rows[0])
    assert page.xpath("//nav[@class='admin-nav']//a[@aria-current='page']")[0].text_content().strip() == "Rapport"
    assert "sessions sans notes" in _text(page.get_element_by_id("sections"))


def test_settings_form_saves_then_redirects(demo_event, as_organiser):
    response = as_organiser.post(f"/e/{demo_event.slug}/admin/report", data={**_form(title="Le retour"), "version": "1"})

    assert response.status_code == 302 and response.headers["Location"].endswith("#reglages")
    assert _report(demo_event).title == "Le retour"


def test_stale_settings_form_shows_both_versions_and_keeps_what_was_typed(demo_event, as_organiser, make_user):
    colleague = make_user("organiser", demo_event)
    editing.save_settings(demo_event, colleague, _settings(introduction_md="Le texte de ma collègue."), version=1)

    response = as_organiser.post(
        f"/e/{demo_event.slug}/admin/report",
        data={**_form(introduction_md="Mon long texte écrit pendant une heure."), "version": "1"},
    )

    assert response.status_code == 409
    page = _page(response)
    box = _text(page.get_element_by_id("conflit"))
    assert "Quelqu'un a modifié le rapport pendant que vous écriviez" in box
    assert "Mon long texte écrit pendant une heure." in box and "Le texte de ma collègue." in box
    assert page.xpath("//textarea[@name='introduction_md']")[0].text_content().strip() == "Mon long texte écrit pendant une heure."
    assert _report(demo_event).introduction_md == "Le texte de ma collègue."
    # Sending the page again (with the version it now carries) saves my version, knowingly.
    version = page.xpath("//input[@name='version']")[0].get("value")
    again = as_organiser.post(f"/e/{demo_event.slug}/admin/report",
                              data={**_form(introduction_md="Mon long texte écrit pendant une heure."), "version": version})
    assert again.status_code == 302
    assert _report(demo_event).introduction_md == "Mon long texte écrit pendant une heure."


def _hidden(page, name: str) -> str:
    return page.xpath(f"//input[@name='{name}']")[0].get("value")


def test_stale_form_takes_in_fields_only_the_other_person_changed(demo_event, as_organiser, make_user):
    url = f"/e/{demo_event.slug}/admin/report"
    opened = _page(as_organiser.get(url))
    version, base = _hidden(opened, "version"), _hidden(opened, "base")
    colleague = make_user("organiser", demo_event)
    editing.save_settings(demo_event, colleague, {**_settings(title=""), "title": "Le titre de ma collègue"}, version=1)

    mine = {**_form(title=""), "conclusion_md": "Ma conclusion.\r\nSur deux lignes.", "organised_by": "",
            "version": version, "base": base}
    response = as_organiser.post(url, data=mine)

    assert response.status_code == 409
    page = _page(response)
    box = _text(page.get_element_by_id("conflit"))
    assert "Titre du rapport" in box and "Repris de la version enregistrée" in box
    assert not page.xpath("//div[@class='conflict-field']")  # nothing changed on both sides
    assert page.xpath("//input[@name='title']")[0].get("value") == "Le titre de ma collègue"
    assert page.xpath("//textarea[@name='conclusion_md']")[0].text_content().strip() == "Ma conclusion.\nSur deux lignes."
    again = {**mine, "title": "Le titre de ma collègue", "version": _hidden(page, "version"), "base": _hidden(page, "base")}
    assert as_organiser.post(url, data=again).status_code == 302
    report = _report(demo_event)
    assert (report.title, report.conclusion_md) == ("Le titre de ma collègue", "Ma conclusion.\nSur deux lignes.")


def test_overlong_field_in_the_form_gets_a_message_and_nothing_is_saved_or_cut(demo_event, as_organiser):
    long_text = "Un texte. " * 5001  # 50 010 characters

    response = as_organiser.post(f"/e/{demo_event.slug}/admin/report", data={**_form(conclusion_md=long_text), "version": "1"})

    assert response.status_code == 422
    page = _page(response)
    assert "Conclusion : 50" in _text(page.xpath("//div[@class='error-summary']")[0])
    assert page.xpath("//textarea[@name='conclusion_md']")[0].get("aria-invalid") == "true"
    assert page.xpath("//textarea[@name='conclusion_md']")[0].text_content().strip() == long_text.strip()
    assert _report(demo_event) is None or _report(demo_event).conclusion_md == ""


def test_preview_renders_markdown_safely_and_saves_nothing(demo_event, as_organiser):
    hostile = ("**Gras** et <script>alert('intro')</script> [clic](javascript:alert(1)) "
               '<img src=x onerror="alert(2)"> <a href="javascript:alert(3)">brut</a> [site](https://example.org)')

    response = as_organiser.post(
        f"/e/{demo_event.slug}/admin/report",
        data={**_form(introduction_md=hostile), "version": "1", "action": "preview"},
    )

    assert response.status_code == 200
    page = _page(response)
    preview = page.get_element_by_id("apercu-introduction_md")
    assert preview.xpath(".//strong")[0].text == "Gras"
    assert [a.get("href") for a in preview.xpath(".//a")] == ["https://example.org"]
    assert not preview.xpath(".//script | .//img | .//*[@onerror]")
    assert all(s.get("src") for s in page.xpath("//script"))  # no inline script anywhere on the page
    assert "<script>alert('intro')</script>" in _text(preview)  # shown as text, harmless
    assert page.xpath("//textarea[@name='introduction_md']")[0].text_content().removeprefix("\n") == hostile  # kept as typed
    assert _report(demo_event) is None or _report(demo_event).introduction_md == ""


def test_section_page_groups_items_by_block_and_shows_them_as_text(demo_event, notes, uploads, as_organiser):
    notes.add(kind="quote", text="<b>Pas du HTML</b>", attribution={"name": "Siham Hadjam", "job_title": "Fondatrice",
                                                                     "organisation": "Cyconia"})
    notes.add(text="Un point clé.", highlighted=True)
    photo = notes.photo(caption="La salle")

    response = as_organiser.get(f"/e/{demo_event.slug}/admin/report/s/A1")

    assert response.status_code == 200
    page = _page(response)
    assert [_text(h) for h in page.xpath("//section[@class='editor-block']/h3")] == [
        "Ce qu'il faut retenir (1)", "Paroles d'intervenant·e·s (1)", "En images (1)"]
    quote = page.xpath("//section[@class='editor-block']")[1]
    assert "<b>Pas du HTML</b>" in _text(quote) and not quote.xpath(".//b")
    assert "Siham Hadjam, Fondatrice, Cyconia" in _text(quote)
    assert "Accord à demander" in _text(quote)
    assert "à retenir" in _text(page.xpath("//section[@class='editor-block']")[0])
    img = page.get_element_by_id(f"item-{photo.id}").xpath(".//img")[0]
    assert img.get("src") == f"/e/{demo_event.slug}/notes/photos/{photo.photo_file}"


def test_item_forms_redirect_back_to_the_item(demo_event, notes, as_organiser):
    note = notes.add(text="Original.")
    base = f"/e/{demo_event.slug}/admin/report/items/{note.id}"

    for path, data in (("text", {"text": "Réécrit.", "action": "save"}), ("visibility", {"hidden": "1"}),
                       ("move", {"direction": "down"}), ("text", {"action": "reset"})):
        response = as_organiser.post(f"{base}/{path}", data=data)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith(f"/admin/report/s/A1#item-{note.id}"), path
    assert _report(demo_event) is not None and services.item_choices(_report(demo_event))[note.id].hidden is True


def test_overlong_item_text_in_the_page_keeps_what_was_typed(demo_event, notes, as_organiser):
    note = notes.add(text="Original.")
    typed = "y" * (TEXT_MAX + 10)

    response = as_organiser.post(f"/e/{demo_event.slug}/admin/report/items/{note.id}/text", data={"text": typed})

    assert response.status_code == 422
    card = _page(response).get_element_by_id(f"item-{note.id}")
    assert card.xpath(".//textarea")[0].text_content() == typed
    assert "5 000" in _text(card.xpath(".//p[@class='error']")[0])
    assert [i.text for i in _draft_items(demo_event)] == ["Original."]


def test_section_form_previews_and_saves(demo_event, notes, as_organiser):
    notes.add(text="Un point.")
    url = f"/e/{demo_event.slug}/admin/report/s/A1"

    preview = as_organiser.post(url, data={"title": "", "summary_md": "*Vite* <script>x()</script>", "action": "preview"})
    assert preview.status_code == 200
    box = _page(preview).get_element_by_id("apercu-summary_md")
    assert box.xpath(".//em")[0].text == "Vite" and not box.xpath(".//script")
    assert not _draft_items(demo_event) or services.draft_document(demo_event).sections[0].summary_md == ""

    saved = as_organiser.post(url, data={"title": "Le foncier", "summary_md": "En bref.", "action": "save"})
    assert saved.status_code == 302
    section = services.draft_document(demo_event).sections[0]
    assert (section.title, section.summary_md) == ("Le foncier", "En bref.")


# --- workflow ------------------------------------------------------------------------------------


def test_first_publication_waits_for_the_review(demo_event, notes, as_organiser):
    notes.add(text="Un point.")

    page = as_organiser.get(f"/e/{demo_event.slug}/admin/report/publish")
    refused = as_organiser.post(f"/e/{demo_event.slug}/admin/report/publish", data={"confirm": "y"})

    assert "Pas encore" in page.get_data(as_text=True)
    assert refused.status_code == 409
    assert db.session.scalar(db.select(db.func.count(ReportSnapshot.id))) == 0


def test_review_then_publication_freezes_a_snapshot(app, demo_event, notes, rapporteur, as_organiser):
    note = notes.add(text="Ce qui a été dit.")
    base = f"/e/{demo_event.slug}/admin/report"

    started = as_organiser.post(f"{base}/review")
    assert started.status_code == 302
    assert _report(demo_event).status == domain.REVIEW
    assert any(rapporteur.email in str(m["To"]) for m in app.extensions["mail_outbox"])  # told to validate

    check = as_organiser.get(f"{base}/publish")
    assert "n'est pas validée" in check.get_data(as_text=True)  # A1 is not validated yet
    unconfirmed = as_organiser.post(f"{base}/publish", data={"note": "Première version"})
    assert unconfirmed.status_code == 422
    assert "Cochez cette case" in unconfirmed.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ReportSnapshot.id))) == 0

    published = as_organiser.post(f"{base}/publish", data={"note": "Première version", "confirm": "y"})
    assert published.status_code == 302
    snapshot = db.session.scalar(db.select(ReportSnapshot))
    assert (snapshot.number, snapshot.note) == (1, "Première version")
    assert _report(demo_event).status == domain.PUBLISHED

    notes.edit(note, text="Corrigé après la publication.")
    assert services.published_document(demo_event).sections[0].items[0].text == "Ce qui a été dit."
    assert _draft_items(demo_event)[0].text == "Corrigé après la publication."
    overview = _text(_page(as_organiser.get(base)).get_element_by_id("etat"))
    assert "Version 1" in overview and "Des modifications ne sont pas encore publiées" in overview


def test_publication_without_warnings_needs_no_confirmation(demo_event, organiser, notes, as_organiser):
    notes.add("S103", text="Un point d'une session sans rapporteur.")
    review.start_review(demo_event, organiser)
    state = review.section_states(demo_event)[0]
    review.validate_section(demo_event, state.session_id, organiser, fingerprint=state.fingerprint)

    response = as_organiser.post(f"/e/{demo_event.slug}/admin/report/publish", data={})

    assert response.status_code == 302
    assert services.latest_snapshot(demo_event).number == 1


def test_back_to_draft_and_withdrawal(demo_event, organiser, notes, as_organiser, client):
    notes.add(text="Un point.")
    base = f"/e/{demo_event.slug}/admin/report"
    as_organiser.post(f"{base}/review")
    as_organiser.post(f"{base}/draft")
    assert _report(demo_event).status == domain.DRAFT
    review.start_review(demo_event, organiser)
    services.publish(demo_event, organiser)

    asked = as_organiser.get(f"{base}/withdraw")
    unconfirmed = as_organiser.post(f"{base}/withdraw", data={})
    assert "ne sera plus en ligne" in asked.get_data(as_text=True)
    assert unconfirmed.status_code == 200 and services.latest_snapshot(demo_event) is not None

    withdrawn = as_organiser.post(f"{base}/withdraw", data={"confirm": "1"})

    assert withdrawn.status_code == 302
    assert services.latest_snapshot(demo_event) is None
    assert client.get(f"/e/{demo_event.slug}/report").status_code == 404
    versions = _text(_page(as_organiser.get(base)).get_element_by_id("versions"))
    assert "retirée le" in versions


def test_an_edit_after_publication_makes_the_working_copy_a_draft_again(demo_event, organiser, notes):
    note = notes.add(text="Un point.")
    review.start_review(demo_event, organiser)
    services.publish(demo_event, organiser)

    editing.set_item(demo_event, note.id, organiser, text="Réécrit.")

    assert _report(demo_event).status == domain.DRAFT
    assert services.published_document(demo_event).sections[0].items[0].text == "Un point."


# --- previews of the draft -----------------------------------------------------------------------


def test_html_preview_shows_the_draft_with_the_staff_photo_address(demo_event, notes, as_organiser):
    notes.add(text="Un point du brouillon.")
    photo = notes.photo(caption="La salle")

    response = as_organiser.get(f"/e/{demo_event.slug}/admin/report/preview")

    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "Un point du brouillon." in body and "Brouillon" in body
    assert f"/e/{demo_event.slug}/notes/photos/{photo.photo_file}" in body


@pytest.mark.parametrize(("fmt", "magic"), [("pdf", b"%PDF"), ("docx", b"PK"), ("md", None)])
def test_draft_preview_in_every_format_is_a_named_file_never_cached(demo_event, notes, as_organiser, fmt, magic):
    notes.add(text="Un point du brouillon.")

    response = as_organiser.get(f"/e/{demo_event.slug}/admin/report/preview.{fmt}")

    assert response.status_code == 200
    assert f'filename="rapport-{demo_event.slug}-brouillon.{fmt}"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    if magic:
        assert response.data.startswith(magic)
    else:
        assert "Un point du brouillon." in response.get_data(as_text=True)


def test_previews_are_for_organisers_only(demo_event, rapporteur, client, login):
    login(rapporteur)

    assert client.get(f"/e/{demo_event.slug}/admin/report/preview").status_code == 403
    assert client.get(f"/e/{demo_event.slug}/admin/report/preview.pdf").status_code == 403
