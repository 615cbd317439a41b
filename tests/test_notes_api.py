"""The notes API: capture (idempotent), edit with conflicts, delete/restore, order, moderation, feed."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from forum_app.extensions import db
from forum_app.notes.models import NoteItem, NoteRevision, RapporteurAssignment
from forum_app.programme.models import Session


def _session(event, code):
    return db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))


def _assign(user, session):
    db.session.add(RapporteurAssignment(user_id=user.id, session_id=session.id))
    db.session.commit()


@pytest.fixture
def rapporteur(demo_event, make_user):
    user = make_user("rapporteur", demo_event)
    _assign(user, _session(demo_event, "A1"))
    return user


@pytest.fixture
def writer(client, login, rapporteur):
    login(rapporteur)
    return client


def _url(event, tail):
    return f"/api/v1/e/{event.slug}/{tail}"


def _item(kind="key_point", text="Le foncier d'activité manque dans les QPV.", **extra):
    return {"client_id": uuid.uuid4().hex, "kind": kind, "text": text,
            "captured_at": datetime.now(UTC).isoformat(), **extra}


def _post(client, event, body, code="A1"):
    return client.post(_url(event, f"s/{code}/notes"), json=body)


# --- capture ---


def test_rapporteur_adds_an_item_to_their_session(writer, demo_event):
    response = _post(writer, demo_event, _item())

    assert response.status_code == 201
    assert response.json["text"] == "Le foncier d'activité manque dans les QPV."
    assert (response.json["kind"], response.json["version"], response.json["session"]) == ("key_point", 1, "A1")
    assert db.session.scalar(db.select(db.func.count(NoteItem.id))) == 1


def test_replayed_client_id_returns_the_original_answer_and_stores_nothing_more(writer, demo_event):
    body = _item()
    first = _post(writer, demo_event, body)
    writer.patch(_url(demo_event, f"notes/{first.json['id']}"), json={"version": 1, "text": "changé depuis"})

    again = _post(writer, demo_event, body)

    assert again.status_code == 200
    assert again.json["id"] == first.json["id"]
    assert again.json["text"] == first.json["text"] and again.json["version"] == 1
    assert db.session.scalar(db.select(db.func.count(NoteItem.id))) == 1


def test_quote_attributed_to_one_of_the_sessions_people_takes_their_details(writer, demo_event):
    people = writer.get(_url(demo_event, "s/A1/notes")).json["session"]["people"]
    speaker = people[0]

    response = _post(writer, demo_event, _item("quote", "Il faut des baux courts.", attribution={"person_id": speaker["id"]}))

    assert response.json["attribution"] == {"person_id": speaker["id"], "name": speaker["name"],
                                           "job_title": speaker["job_title"], "organisation": speaker["organisation"]}


def test_quote_from_the_floor_keeps_the_typed_attribution(writer, demo_event):
    response = _post(writer, demo_event, _item("quote", "On attend depuis 2015.",
                                               attribution={"name": "Une habitante", "organisation": "Conseil citoyen"}))

    assert response.json["attribution"]["name"] == "Une habitante"
    assert response.json["attribution"]["person_id"] is None


def test_attribution_to_someone_outside_the_session_is_refused(writer, demo_event):
    outsider = db.session.scalar(
        db.text("select p.id from person p where p.id not in (select person_id from session_person sp "
                "join session s on s.id = sp.session_id where s.code = 'A1')")
    )

    response = _post(writer, demo_event, _item("quote", "x", attribution={"person_id": outsider}))

    assert response.status_code == 422 and response.json["field"] == "attribution"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"kind": "rumeur"}, "kind"),
        ({"kind": "photo"}, "kind"),
        ({"client_id": "court"}, "client_id"),
        ({"captured_at": "hier"}, "captured_at"),
        ({"attribution": "Nadia"}, "attribution"),
    ],
)
def test_bad_items_get_a_message_naming_the_field_and_store_nothing(writer, demo_event, changes, field):
    response = _post(writer, demo_event, {**_item(), **changes})

    assert response.status_code == 422
    assert response.json["field"] == field
    assert response.json["message"]
    assert db.session.scalar(db.select(db.func.count(NoteItem.id))) == 0


def test_text_over_the_limit_says_so_in_french(writer, demo_event):
    response = _post(writer, demo_event, _item(text="x" * 5001))

    assert "5\u202f000 caractères au plus" in response.json["message"]  # French: narrow no-break space
    assert "pas été coupé" in response.json["message"]


def test_markup_is_stored_as_typed(writer, demo_event):
    text = "<img src=x onerror=alert(1)> & <b>gras</b>"

    response = _post(writer, demo_event, _item(text=text))

    assert response.json["text"] == text


def test_rapporteur_cannot_write_to_a_session_they_are_not_assigned_to(writer, demo_event):
    response = _post(writer, demo_event, _item(), code="A2")

    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count(NoteItem.id))) == 0


def test_volunteer_and_anonymous_cannot_write_notes(client, demo_event, make_user, login):
    anonymous = _post(client, demo_event, _item())
    login(make_user("volunteer", demo_event))
    volunteer = _post(client, demo_event, _item())

    assert (anonymous.status_code, volunteer.status_code) == (401, 403)


def test_organiser_writes_in_any_session(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))

    assert _post(client, demo_event, _item(), code="A4").status_code == 201


def test_unknown_session_is_404(writer, demo_event):
    assert _post(writer, demo_event, _item(), code="ZZ9").status_code == 404


# --- editing ---


def test_edit_from_the_current_version_bumps_it_and_keeps_a_revision(writer, demo_event):
    item = _post(writer, demo_event, _item()).json

    response = writer.patch(_url(demo_event, f"notes/{item['id']}"), json={"version": 1, "text": "Texte corrigé"})

    assert response.status_code == 200
    assert (response.json["text"], response.json["version"]) == ("Texte corrigé", 2)
    texts = [r.text for r in db.session.scalars(db.select(NoteRevision).order_by(NoteRevision.id))]
    assert texts == [item["text"], "Texte corrigé"]


def test_two_edits_from_the_same_version_one_wins_the_other_gets_409_with_the_current_text(app, demo_event, rapporteur):
    first_client, second_client = app.test_client(), app.test_client()
    for c in (first_client, second_client):
        c.post("/login", data={"email": rapporteur.email, "password": "correct-horse-battery"})
    item = _post(first_client, demo_event, _item(text="Version d'origine")).json
    url = _url(demo_event, f"notes/{item['id']}")

    won = first_client.patch(url, json={"version": 1, "text": "Version A"})
    lost = second_client.patch(url, json={"version": 1, "text": "Version B"})

    assert won.status_code == 200
    assert lost.status_code == 409
    assert lost.json["code"] == "edit_conflict"
    assert lost.json["current"]["text"] == "Version A" and lost.json["current"]["version"] == 2
    # The loser keeps their text by sending it again from the version they now know: nothing lost.
    kept = second_client.patch(url, json={"version": 2, "text": "Version A\n\nVersion B"})
    assert kept.status_code == 200 and kept.json["text"] == "Version A\n\nVersion B"
    assert [r.text for r in db.session.scalars(db.select(NoteRevision).order_by(NoteRevision.id))] == [
        "Version d'origine", "Version A", "Version A\n\nVersion B"]


def test_highlight_and_delete_are_not_conflicts_and_delete_is_restorable(writer, demo_event):
    item = _post(writer, demo_event, _item()).json
    url = _url(demo_event, f"notes/{item['id']}")
    writer.patch(url, json={"version": 1, "text": "v2"})

    highlighted = writer.patch(url, json={"version": 1, "highlighted": True})
    deleted = writer.patch(url, json={"version": 1, "deleted": True})
    restored = writer.patch(url, json={"version": 1, "deleted": False})

    assert highlighted.json["highlighted"] is True
    assert deleted.json["deleted"] is True
    assert restored.json["deleted"] is False and restored.json["text"] == "v2"


def test_edit_without_a_version_is_refused(writer, demo_event):
    item = _post(writer, demo_event, _item()).json

    response = writer.patch(_url(demo_event, f"notes/{item['id']}"), json={"text": "x"})

    assert response.status_code == 422 and response.json["field"] == "version"


def test_only_organisers_moderate_what_goes_in_the_report(writer, client, demo_event, make_user, login):
    item = _post(writer, demo_event, _item()).json
    url = _url(demo_event, f"notes/{item['id']}")

    refused = writer.patch(url, json={"version": 1, "in_report": False})
    login(make_user("organiser", demo_event))
    excluded = client.patch(url, json={"version": 1, "in_report": False})

    assert refused.status_code == 403
    assert excluded.status_code == 200 and excluded.json["in_report"] is False


def test_organiser_fixes_an_attribution_and_merges_duplicates(writer, client, demo_event, make_user, login):
    kept = _post(writer, demo_event, _item("quote", "Il faut simplifier.")).json
    duplicate = _post(writer, demo_event, _item("quote", "Il faut simplifier. Et vite.",
                                                attribution={"name": "M. Durand"})).json
    login(make_user("organiser", demo_event))

    fixed = client.patch(_url(demo_event, f"notes/{duplicate['id']}"),
                         json={"version": 1, "attribution": {"name": "Mme Durand", "job_title": "Maire"}})
    merged = client.post(_url(demo_event, f"notes/{duplicate['id']}/merge"), json={"into": kept["id"]})

    assert fixed.json["attribution"]["name"] == "Mme Durand"
    assert merged.status_code == 200
    assert merged.json["text"] == "Il faut simplifier. Et vite."
    assert merged.json["attribution"]["name"] == "Mme Durand"
    gone = db.session.get(NoteItem, duplicate["id"])
    assert gone.deleted_at is not None and gone.merged_into_id == kept["id"]


# --- order and feed ---


def test_reorder_puts_items_in_the_given_order(writer, demo_event):
    ids = [_post(writer, demo_event, _item(text=f"point {n}")).json["id"] for n in range(3)]

    response = writer.post(_url(demo_event, "s/A1/notes/order"), json={"ids": [ids[0], ids[2], ids[1]]})

    assert [item["id"] for item in response.json["items"]] == [ids[0], ids[2], ids[1]]
    listed = writer.get(_url(demo_event, "s/A1/notes")).json["items"]
    assert [item["id"] for item in listed] == [ids[0], ids[2], ids[1]]


def test_newest_item_is_listed_first(writer, demo_event):
    ids = [_post(writer, demo_event, _item(text=f"point {n}")).json["id"] for n in range(3)]

    listed = writer.get(_url(demo_event, "s/A1/notes")).json["items"]

    assert [item["id"] for item in listed] == ids[::-1]


def test_feed_since_a_cursor_returns_only_changes_and_304_when_nothing_changed(writer, demo_event):
    first = _post(writer, demo_event, _item(text="un")).json
    page = writer.get(_url(demo_event, "s/A1/notes"))
    cursor = page.json["cursor"]

    unchanged = writer.get(_url(demo_event, f"s/A1/notes?since={cursor}"))
    etag = unchanged.headers["ETag"]
    still = writer.get(_url(demo_event, f"s/A1/notes?since={cursor}"), headers={"If-None-Match": etag})
    second = _post(writer, demo_event, _item(text="deux")).json
    changed = writer.get(_url(demo_event, f"s/A1/notes?since={cursor}"), headers={"If-None-Match": etag})

    assert unchanged.json["items"] == []
    assert still.status_code == 304
    assert changed.status_code == 200
    assert [item["id"] for item in changed.json["items"]] == [second["id"]]
    assert first["id"] not in [item["id"] for item in changed.json["items"]]
    assert changed.json["cursor"] > cursor


def test_feed_with_a_malformed_cursor_is_422(writer, demo_event):
    assert writer.get(_url(demo_event, "s/A1/notes?since=abc")).status_code == 422


def test_oversized_body_is_413(writer, demo_event):
    response = writer.post(_url(demo_event, "s/A1/notes"), data="x" * (70 * 1024), content_type="application/json")

    assert response.status_code == 413


def test_merge_into_a_deleted_item_is_refused_and_a_restored_duplicate_stands_alone(writer, client, demo_event,
                                                                                    make_user, login):
    kept = _post(writer, demo_event, _item(text="Gardé")).json
    duplicate = _post(writer, demo_event, _item(text="Doublon")).json
    deleted = _post(writer, demo_event, _item(text="Supprimé")).json
    writer.patch(_url(demo_event, f"notes/{deleted['id']}"), json={"version": 1, "deleted": True})
    login(make_user("organiser", demo_event))

    refused = client.post(_url(demo_event, f"notes/{duplicate['id']}/merge"), json={"into": deleted["id"]})
    client.post(_url(demo_event, f"notes/{duplicate['id']}/merge"), json={"into": kept["id"]})
    restored = client.patch(_url(demo_event, f"notes/{duplicate['id']}"), json={"version": 1, "deleted": False})

    assert refused.status_code == 422 and refused.json["field"] == "into"
    assert restored.json["deleted"] is False and restored.json["merged_into"] is None
