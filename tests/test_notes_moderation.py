"""Organisers' live view of the notes and their moderation: per-session counts, the latest items,
the ETag of the live fragment, include/exclude, attribution fix (and its conflict), merge, restore,
who may see it, and markup always shown as text."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import lxml.html
import pytest

from forum_app.extensions import db
from forum_app.notes import moderation, services
from forum_app.notes.models import NoteItem, RapporteurAssignment
from forum_app.programme.models import Session

NOW = "2019-06-06T11:50:00+02:00"  # the forum's first morning, during the 11 h 30 workshops
CAPTURED = datetime(2019, 6, 6, 9, 40, tzinfo=UTC)  # 11 h 40 in Rennes


def _session(event, code) -> Session:
    return db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))


def _page(response) -> lxml.html.HtmlElement:
    assert response.status_code in (200, 409, 422), response.status_code
    return lxml.html.fromstring(response.get_data(as_text=True))


def _text(element) -> str:
    return " ".join(element.text_content().split())


class Notes:
    """Items written through the real service, as a rapporteur's device would."""

    def __init__(self, event, author):
        self.event, self.author = event, author

    def add(self, code, kind="key_point", text="Le foncier d'activité manque.", **extra) -> dict:
        body = {"client_id": uuid.uuid4().hex, "kind": kind, "text": text, "captured_at": CAPTURED.isoformat(), **extra}
        return services.add_item(self.event, _session(self.event, code), self.author, body).item

    def edit(self, item, **changes) -> dict:
        version = db.session.get(NoteItem, item["id"]).version
        return services.edit_item(self.event, item["id"], self.author, {"version": version, **changes})


@pytest.fixture
def frozen(app):
    app.config["FORUM_NOW"] = NOW
    return app


@pytest.fixture
def organiser(demo_event, make_user):
    return make_user("organiser", demo_event)


@pytest.fixture
def rapporteur(demo_event, make_user):
    user = make_user("rapporteur", demo_event)
    for code in ("A1", "A2", "A3"):
        db.session.add(RapporteurAssignment(user_id=user.id, session_id=_session(demo_event, code).id))
    db.session.commit()
    return user


@pytest.fixture
def notes(demo_event, rapporteur):
    return Notes(demo_event, rapporteur)


@pytest.fixture
def as_organiser(client, login, organiser, frozen):
    login(organiser)
    return client


@pytest.fixture
def three_rooms(demo_event, notes, organiser):
    """A1: 2 key points (1 highlighted), 1 quote, 1 proposal excluded, 1 figure deleted;
    A2: 2 questions, one merged into the other; S103 (no rapporteur): 1 quote by an organiser;
    A3: a rapporteur, no item yet."""
    a1 = [
        notes.add("A1", "key_point", "Les baux précaires freinent l'installation.", highlighted=True),
        notes.add("A1", "key_point", "Les rez-de-chaussée vacants sont une ressource."),
        notes.add("A1", "quote", "Il faut des baux courts.", attribution={"name": "Nadia Belkacem", "organisation": "Ville de Roubaix"}),
        notes.add("A1", "proposal", "Un guichet unique du foncier."),
        notes.add("A1", "figure", "30 % de locaux vacants."),
    ]
    services.edit_item(demo_event, a1[3]["id"], organiser, {"version": 1, "in_report": False})
    notes.edit(a1[4], deleted=True)
    a2 = [notes.add("A2", "question", "Quel accès au crédit ?"), notes.add("A2", "question", "Quel accès au crédit bancaire ?")]
    services.merge(demo_event, a2[1]["id"], a2[0]["id"], organiser)
    Notes(demo_event, organiser).add("S103", "quote", "Les quartiers sont des territoires d'entrepreneurs.")
    return {"A1": a1, "A2": a2}


# --------------------------------------------------------------------------- the overview


def test_overview_counts_each_sessions_items_by_kind(as_organiser, demo_event, three_rooms):
    doc = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/notes"))

    rows = {row.get("id"): row for row in doc.xpath("//table[@id='notes-sessions']/tbody/tr")}
    assert list(rows) == ["session-S103", "session-A1", "session-A2", "session-A3"]  # programme order
    a1 = rows["session-A1"]
    assert [_text(li) for li in a1.xpath(".//li[contains(@class, 'kind-count')]")] == [
        "Point clé 2", "Citation 1", "Proposition 1",  # the deleted figure is not counted
    ]
    cells = [_text(td) for td in a1.xpath("./td")]
    assert cells[0].startswith("4 ") and "1 supprimé ou fusionné" in cells[0]
    assert cells[1:4] == ["1", "1", "à l'instant"]  # highlighted, excluded, last item received
    assert "Rapporteur·e : rapporteur 1" in _text(a1.xpath("./th")[0])
    a2_cells = [_text(td) for td in rows["session-A2"].xpath("./td")]
    assert a2_cells[0].startswith("1 ") and "Question de la salle 1" in a2_cells[0]
    assert "Aucun·e rapporteur·e" in _text(rows["session-S103"])
    assert _text(rows["session-A3"].xpath("./td")[0]) == "0"
    assert _text(doc.get_element_by_id("notes-summary")) == "6 éléments dans 3 sessions · 1 à retenir · 1 exclu du rapport"


def test_overview_lists_sessions_without_notes_or_rapporteur_not_at_all(as_organiser, demo_event, three_rooms):
    doc = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/notes"))

    codes = [row.get("id") for row in doc.xpath("//table[@id='notes-sessions']/tbody/tr")]
    assert "session-A4" not in codes and "session-S101" not in codes


def test_overview_shows_the_latest_items_newest_first_without_deleted_ones(as_organiser, demo_event, three_rooms, app):
    app.config["FORUM_NOW"] = None  # items arrive in real time: created_at order
    doc = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/notes"))

    latest = doc.xpath("//ol[@id='latest-items']/li")
    shown = [_text(li.xpath(".//p[contains(@class, 'note-text')]")[0]) for li in latest]
    assert shown[0] == "Les quartiers sont des territoires d'entrepreneurs."
    assert "30 % de locaux vacants." not in shown  # deleted
    assert "Quel accès au crédit bancaire ?" not in shown  # merged into the other question
    assert len(shown) == 6
    quote = next(li for li in latest if "baux courts" in _text(li))
    assert "— Nadia Belkacem, Ville de Roubaix" in _text(quote)
    assert quote.xpath(".//a[contains(@class, 'code')]")[0].get("href").endswith(f"/admin/notes/A1#item-{three_rooms['A1'][2]['id']}")


def test_last_item_time_reads_minutes_ago_then_the_clock(as_organiser, demo_event, notes, app):
    item = notes.add("A1")
    received = db.session.get(NoteItem, item["id"]).created_at

    app.config["FORUM_NOW"] = (received + timedelta(minutes=2, seconds=5)).isoformat()
    soon = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/notes"))
    app.config["FORUM_NOW"] = (received + timedelta(hours=2)).isoformat()
    later = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/notes"))

    assert _text(soon.xpath("//tr[@id='session-A1']/td")[-1]) == "il y a 2 min"
    local = received.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert _text(later.xpath("//tr[@id='session-A1']/td")[-1]) == f"{local.hour} h {local.minute:02d}"


def test_overview_counts_take_a_fixed_number_of_queries(demo_event, notes, organiser):
    for code in ("A1", "A2", "A3"):
        for n in range(4):
            notes.add(code, text=f"Point {n} de {code}")
    statements = []
    from sqlalchemy import event as sa_event

    def count(*_args):
        statements.append(1)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        small = len(statements)
        moderation.overview(demo_event)
        moderation.latest(demo_event)
        first = len(statements) - small
        for n in range(10):
            Notes(demo_event, organiser).add("A4", text=f"Encore {n}")
        db.session.add(RapporteurAssignment(user_id=notes.author.id, session_id=_session(demo_event, "A5").id))
        db.session.commit()
        before = len(statements)
        moderation.overview(demo_event)
        moderation.latest(demo_event)
        second = len(statements) - before
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)

    assert first == second <= 5


# --------------------------------------------------------------------------- the live fragment


def test_live_fragment_answers_304_until_a_note_arrives(as_organiser, demo_event, notes):
    notes.add("A1")
    url = f"/e/{demo_event.slug}/admin/notes/live"
    first = as_organiser.get(url)
    etag = first.headers["ETag"]

    unchanged = as_organiser.get(url, headers={"If-None-Match": etag})
    notes.add("A2", "question", "Et la mobilité ?")
    changed = as_organiser.get(url, headers={"If-None-Match": etag})

    assert first.status_code == 200 and etag.startswith('W/"')
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Et la mobilité ?" in changed.get_data(as_text=True)


def test_live_fragment_changes_with_a_moderation_and_a_new_assignment(as_organiser, demo_event, notes, organiser, make_user):
    item = notes.add("A1")
    url = f"/e/{demo_event.slug}/admin/notes/live"
    etag = as_organiser.get(url).headers["ETag"]

    services.edit_item(demo_event, item["id"], organiser, {"version": 1, "in_report": False})
    after_moderation = as_organiser.get(url, headers={"If-None-Match": etag})
    other = make_user("rapporteur", demo_event)
    db.session.add(RapporteurAssignment(user_id=other.id, session_id=_session(demo_event, "A6").id))
    db.session.commit()
    after_assignment = as_organiser.get(url, headers={"If-None-Match": after_moderation.headers["ETag"]})

    assert after_moderation.status_code == 200 and "1 exclu du rapport" in after_moderation.get_data(as_text=True)
    assert after_assignment.status_code == 200 and 'id="session-A6"' in after_assignment.get_data(as_text=True)


def test_overview_page_carries_the_fragments_etag_and_poll_interval(as_organiser, demo_event, app):
    app.config["NOTES_LIVE_POLL_SECONDS"] = 1
    doc = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/notes"))
    region = doc.xpath("//*[@data-live-url]")[0]

    answer = as_organiser.get(region.get("data-live-url"), headers={"If-None-Match": region.get("data-live-etag")})

    assert answer.status_code == 304
    assert region.get("data-live-interval") == "1000"
    assert doc.xpath("//script[contains(@src, 'js/notes-live.js')]")
    assert [_text(a) for a in doc.xpath("//nav[@class='admin-nav']//a[@aria-current='page']")] == ["Notes"]


# --------------------------------------------------------------------------- one session's moderation


def _card(doc, item_id) -> lxml.html.HtmlElement:
    return doc.get_element_by_id(f"item-{item_id}")


def _session_page(client, event, code="A1"):
    return _page(client.get(f"/e/{event.slug}/admin/notes/{code}"))


def test_session_page_shows_items_states_and_removed_ones_apart(as_organiser, demo_event, three_rooms):
    doc = _session_page(as_organiser, demo_event)
    a1 = three_rooms["A1"]

    live_ids = [li.get("id") for li in doc.xpath("//section[h2[@id='items-title']]//li[contains(@class, 'note-card')]")]
    removed_ids = [li.get("id") for li in doc.xpath("//section[h2[@id='removed-title']]//li[contains(@class, 'note-card')]")]
    assert live_ids == [f"item-{i['id']}" for i in reversed(a1[:4])]  # the rapporteurs' order: newest on top
    assert removed_ids == [f"item-{a1[4]['id']}"]
    assert "à retenir" in _text(_card(doc, a1[0]["id"]).xpath(".//p[@class='note-head']")[0])
    assert "exclu du rapport" in _text(_card(doc, a1[3]["id"]))
    assert "supprimé" in _text(_card(doc, a1[4]["id"]).xpath(".//p[@class='note-head']")[0])
    assert _text(doc.get_element_by_id("session-summary")).startswith("4 éléments · 1 à retenir · 1 exclu du rapport · 1 supprimé")


def test_organiser_excludes_then_includes_an_item(as_organiser, demo_event, notes):
    item = notes.add("A1")
    doc = _session_page(as_organiser, demo_event)
    form = _card(doc, item["id"]).xpath(".//form[.//button[starts-with(normalize-space(), 'Exclure du rapport')]]")[0]

    excluded = as_organiser.post(form.get("action"), data={"in_report": "0"}, follow_redirects=True)
    button = _card(_page(excluded), item["id"]).xpath(".//form[.//button[starts-with(normalize-space(), 'Inclure')]]")[0]
    included = as_organiser.post(button.get("action"), data={"in_report": "1"}, follow_redirects=True)

    assert "exclu du rapport" in _text(_card(_page(excluded), item["id"]))
    assert f"Élément n° {item['id']} exclu du rapport" in excluded.get_data(as_text=True)
    assert db.session.get(NoteItem, item["id"]).in_report is True
    assert "exclu du rapport" not in _text(_card(_page(included), item["id"]).xpath(".//p[@class='note-head']")[0])
    assert [r.action for r in db.session.get(NoteItem, item["id"]).revisions] == ["created", "moderated", "moderated"]


def test_excluding_an_item_edited_since_the_page_was_drawn_is_not_a_conflict(as_organiser, demo_event, notes):
    item = notes.add("A1")
    notes.edit(item, text="Réécrit par la rapporteure.")

    response = as_organiser.post(f"/e/{demo_event.slug}/admin/notes/items/{item['id']}/report", data={"in_report": "0"})

    assert response.status_code == 302 and urlsplit(response.headers["Location"]).fragment == f"item-{item['id']}"
    stored = db.session.get(NoteItem, item["id"])
    assert stored.in_report is False and stored.text == "Réécrit par la rapporteure."


def test_organiser_attributes_a_quote_to_one_of_the_sessions_people(as_organiser, demo_event, notes):
    item = notes.add("A1", "quote", "Les investisseurs attendent des garanties.")
    person = services.session_people(_session(demo_event, "A1"))[1]

    response = as_organiser.post(
        f"/e/{demo_event.slug}/admin/notes/items/{item['id']}/attribution",
        data={"mode": "person", "person_id": str(person["id"]), "version": "1"}, follow_redirects=True,
    )

    stored = db.session.get(NoteItem, item["id"])
    assert (stored.attribution_person_id, stored.attribution_name, stored.attribution_organisation) == (
        person["id"], person["name"], person["organisation"])
    assert stored.version == 2
    assert f"— {person['name']}" in _text(_card(_page(response), item["id"]))


def test_organiser_fixes_a_typed_attribution_and_keeps_the_programme_link(as_organiser, demo_event, notes):
    person = services.session_people(_session(demo_event, "A1"))[0]
    item = notes.add("A1", "quote", "Il faut des baux courts.", attribution={"person_id": person["id"]})

    as_organiser.post(
        f"/e/{demo_event.slug}/admin/notes/items/{item['id']}/attribution",
        data={"mode": "typed", "version": "1", "name": person["name"], "job_title": "Adjointe au maire",
              "organisation": person["organisation"]},
    )
    as_organiser.post(
        f"/e/{demo_event.slug}/admin/notes/items/{item['id']}/attribution",
        data={"mode": "typed", "version": "2", "name": "", "job_title": "", "organisation": ""},
    )

    revisions = db.session.get(NoteItem, item["id"]).revisions
    assert (revisions[1].attribution_job_title, revisions[1].attribution_name) == ("Adjointe au maire", person["name"])
    stored = db.session.get(NoteItem, item["id"])
    assert stored.attribution_name == "" and stored.attribution_person_id is None and stored.version == 3


def test_stale_attribution_fix_shows_the_current_attribution_and_can_be_sent_again(as_organiser, demo_event, notes):
    item = notes.add("A1", "quote", "On attend depuis 2015.", attribution={"name": "Une habitante"})
    notes.edit(item, attribution={"name": "Fatou Diallo", "organisation": "Conseil citoyen"})  # meanwhile, on a phone

    response = as_organiser.post(
        f"/e/{demo_event.slug}/admin/notes/items/{item['id']}/attribution",
        data={"mode": "typed", "version": "1", "name": "Fatou Diallo", "job_title": "Habitante",
              "organisation": "Conseil citoyen de Roubaix"},
    )

    assert response.status_code == 409
    card = _card(_page(response), item["id"])
    problem = card.xpath(".//*[@role='alert']")[0]
    assert "modifié entre-temps" in _text(problem)
    assert "Attribution actuelle : Fatou Diallo, Conseil citoyen." in _text(problem)
    form = card.xpath(".//form[.//input[@name='mode'][@value='typed']]")[0]
    assert form.xpath(".//input[@name='organisation']")[0].get("value") == "Conseil citoyen de Roubaix"  # what was typed
    assert form.xpath(".//input[@name='version']")[0].get("value") == "2"  # ready to send again
    assert db.session.get(NoteItem, item["id"]).attribution_organisation == "Conseil citoyen"

    again = as_organiser.post(form.get("action"), data={
        "mode": "typed", "version": "2", "name": "Fatou Diallo", "job_title": "Habitante", "organisation": "Conseil citoyen de Roubaix"})

    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(NoteItem, item["id"]).attribution_organisation == "Conseil citoyen de Roubaix"


def test_attribution_with_a_job_title_but_no_name_gets_a_message_next_to_the_item(as_organiser, demo_event, notes):
    item = notes.add("A1", "quote", "Citation.")

    response = as_organiser.post(
        f"/e/{demo_event.slug}/admin/notes/items/{item['id']}/attribution",
        data={"mode": "typed", "version": "1", "name": "", "job_title": "Chargée de mission", "organisation": ""},
    )

    assert response.status_code == 422
    assert "Nom de la personne citée : ce champ est vide." in _text(_card(_page(response), item["id"]).xpath(".//*[@role='alert']")[0])


def test_organiser_merges_a_duplicate_into_another_item(as_organiser, demo_event, notes):
    kept = notes.add("A2", "question", "Quel accès au crédit ?")
    duplicate = notes.add("A2", "question", "Et les garanties de la BPI ?")
    doc = _session_page(as_organiser, demo_event, "A2")
    assert not doc.xpath("//select[@name='into']")  # the choice opens for one item at a time
    link = _card(doc, duplicate["id"]).xpath(".//a[starts-with(normalize-space(), 'Fusionner avec')]")[0].get("href")
    choosing = _page(as_organiser.get(link))
    form = _card(choosing, duplicate["id"]).xpath(".//form[.//button[normalize-space()='Fusionner']]")[0]
    options = [o.get("value") for o in form.xpath(".//select[@name='into']/option")]
    assert options == [str(kept["id"])]

    response = as_organiser.post(form.get("action"), data={"into": str(kept["id"])})

    assert response.status_code == 302 and urlsplit(response.headers["Location"]).fragment == f"item-{kept['id']}"
    after = _session_page(as_organiser, demo_event, "A2")
    assert _text(_card(after, kept["id"]).xpath(".//p[@class='note-text']")[0]) == "Quel accès au crédit ? Et les garanties de la BPI ?"
    assert f"fusionné dans n° {kept['id']}" in _text(_card(after, duplicate["id"]))
    assert after.xpath(f"//section[h2[@id='removed-title']]//li[@id='item-{duplicate['id']}']")


def test_merge_without_a_choice_or_into_another_session_changes_nothing(as_organiser, demo_event, notes):
    item = notes.add("A1")
    elsewhere = notes.add("A2")
    base = f"/e/{demo_event.slug}/admin/notes/items/{item['id']}/merge"

    empty = as_organiser.post(base, data={}, follow_redirects=True)
    other = as_organiser.post(base, data={"into": str(elsewhere["id"])}, follow_redirects=True)

    assert "Choisissez l'élément dans lequel fusionner" in _text(_page(empty).xpath("//*[contains(@class, 'flash-error')]")[0])
    assert "Fusion impossible" in _text(_page(other).xpath("//*[contains(@class, 'flash-error')]")[0])
    assert db.session.get(NoteItem, item["id"]).deleted_at is None


def test_organiser_restores_a_deleted_item_with_its_history(as_organiser, demo_event, notes):
    item = notes.add("A1", text="Supprimé par erreur.")
    notes.edit(item, deleted=True)
    doc = _session_page(as_organiser, demo_event)
    card = _card(doc, item["id"])
    history = _text(card.xpath(".//details[contains(@class, 'note-history')]")[0])
    assert "Saisi" in history and "Supprimé" in history and "rapporteur" in history
    form = card.xpath(".//form[.//button[starts-with(normalize-space(), 'Restaurer')]]")[0]

    response = as_organiser.post(form.get("action"), data={}, follow_redirects=True)

    assert db.session.get(NoteItem, item["id"]).deleted_at is None
    assert f"Élément n° {item['id']} restauré." in response.get_data(as_text=True)
    assert _page(response).xpath(f"//section[h2[@id='items-title']]//li[@id='item-{item['id']}']")


def test_markup_in_a_note_is_shown_as_text(as_organiser, demo_event, notes, app):
    app.config["FORUM_NOW"] = None
    notes.author.name = "<i>Rapporteure</i>"
    notes.add("A1", "quote", "<script>alert('x')</script> <b>gras</b>", attribution={"name": "<img src=x onerror=alert(1)>"})

    for url in (f"/e/{demo_event.slug}/admin/notes", f"/e/{demo_event.slug}/admin/notes/live", f"/e/{demo_event.slug}/admin/notes/A1"):
        html = as_organiser.get(url).get_data(as_text=True)

        assert "<script>alert" not in html and "<b>gras</b>" not in html and "<img src=x" not in html, url
        assert "<i>Rapporteure" not in html and "&lt;i&gt;Rapporteure&lt;/i&gt;" in html, url
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &lt;b&gt;gras&lt;/b&gt;" in html, url


def test_another_events_item_is_not_found(as_organiser, demo_event, notes, make_user):
    from forum_app.programme.models import Event

    other = Event(slug="autre", title="Autre", start_date=demo_event.start_date, end_date=demo_event.end_date)
    db.session.add(other)
    db.session.commit()
    item = notes.add("A1")

    response = as_organiser.post(f"/e/autre/admin/notes/items/{item['id']}/report", data={"in_report": "0"})

    assert response.status_code in (403, 404)
    assert db.session.get(NoteItem, item["id"]).in_report is True


# --------------------------------------------------------------------------- who may see it


@pytest.mark.parametrize("role", ["volunteer", "rapporteur"])
def test_volunteers_and_rapporteurs_may_not_see_or_moderate(client, login, demo_event, make_user, notes, role):
    item = notes.add("A1")
    login(make_user(role, demo_event))

    pages = [client.get(f"/e/{demo_event.slug}/admin/notes{tail}") for tail in ("", "/live", "/A1")]
    post = client.post(f"/e/{demo_event.slug}/admin/notes/items/{item['id']}/report", data={"in_report": "0"})

    assert [p.status_code for p in pages] == [403, 403, 403] and post.status_code == 403
    assert db.session.get(NoteItem, item["id"]).in_report is True


def test_anonymous_visitors_are_sent_to_the_login_page(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/admin/notes")

    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
