"""The staff journal ("Journal des actions"): each audited action leaves exactly one entry, saved with
the change it describes (none when it is refused or rolled back), and organisers read it on their page."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from forum_app.audit import services as audit
from forum_app.audit.models import AuditEntry
from forum_app.badges import services as badges
from forum_app.checkin import services as checkin
from forum_app.errors import Conflict, NotFound
from forum_app.extensions import db
from forum_app.notes import demo as notes_demo
from forum_app.programme import services as programme
from forum_app.registration import services as registration
from forum_app.registration.models import Registration
from forum_app.report import review
from forum_app.report import services as report

MORNING = "2019-06-06T09:30:00+02:00"  # the first day of the demo forum


@pytest.fixture(autouse=True)
def _morning(app):
    app.config["FORUM_NOW"] = MORNING


@pytest.fixture
def organiser(demo_event, make_user):
    user = make_user("organiser", demo_event)
    user.name = "Awa Diallo"
    db.session.commit()
    return user


@pytest.fixture
def as_organiser(client, login, organiser):
    login(organiser)
    return client


def _person(event, first="Jamal", last="Khay", **values) -> Registration:
    email = values.pop("email", f"{first}.{last}@example.org".lower())
    data = registration.RegistrationInput(first, last, email, consent=True, organisation="Ville de Roubaix", **values)
    return registration.register(event, data, source="desk").registration


def _entries(action: str | None = None) -> list[AuditEntry]:
    db.session.expire_all()
    query = db.select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


def _text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.DOTALL)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _scan(event, person, *, station="Porte 2", at="2019-06-06T09:12:00+02:00", session=None):
    return checkin.check_in(
        event, badge=badges.badge_payload(person), client_id=f"client-{person.id:04d}-{session or 'door'}", station=station,
        scanned_at=at, session_code=session,
    ).answer


# --- check-in undo ------------------------------------------------------------------------------------


def test_undo_of_an_arrival_records_one_entry_with_who_and_what(demo_event, organiser):
    person = _person(demo_event)
    answer = _scan(demo_event, person)

    checkin.undo_check_in(demo_event, answer["checkin_id"], organiser)

    [entry] = _entries()
    assert entry.action == "checkin.undo" and entry.event_id == demo_event.id
    assert entry.summary == "Passage annulé : Jamal Khay, Porte 2, 9 h 12"
    assert (entry.user_id, entry.actor_name, entry.actor_email) == (organiser.id, "Awa Diallo", organiser.email)
    assert (entry.target_type, entry.target_id, entry.registration_id) == ("checkin", answer["checkin_id"], person.id)
    assert entry.details["changes"] == {"undone": {"before": False, "after": True}}
    assert entry.at == datetime.fromisoformat(MORNING).astimezone(UTC)


def test_undo_refused_or_repeated_records_nothing_more(demo_event, organiser):
    person = _person(demo_event)
    answer = _scan(demo_event, person)
    checkin.undo_check_in(demo_event, answer["checkin_id"], organiser)
    refused = checkin.check_in(demo_event, badge="pas-un-badge", client_id="client-bad-scan", station="Porte 2",
                               scanned_at="2019-06-06T09:13:00+02:00").answer

    checkin.undo_check_in(demo_event, answer["checkin_id"], organiser)  # already undone: nothing changes
    with pytest.raises(Conflict):
        checkin.undo_check_in(demo_event, refused["checkin_id"], organiser)
    with pytest.raises(NotFound):
        checkin.undo_check_in(demo_event, 999999, organiser)

    assert len(_entries()) == 1


def test_undo_through_the_api_is_journaled_and_a_volunteers_attempt_is_not(client, login, demo_event, organiser, make_user):
    person = _person(demo_event)
    answer = _scan(demo_event, person, session=None)
    volunteer = make_user("volunteer", demo_event)
    url = f"/api/v1/e/{demo_event.slug}/checkins/{answer['checkin_id']}/undo"

    login(volunteer)
    refused = client.post(url, json={})
    client.post("/logout")
    login(organiser)
    done = client.post(url, json={})

    assert refused.status_code == 403 and done.status_code == 200
    assert [(e.action, e.user_id) for e in _entries()] == [("checkin.undo", organiser.id)]


# --- registrations --------------------------------------------------------------------------------------


def _edit_form(person, **changes):
    form = {
        "first_name": person.first_name, "last_name": person.last_name, "email": person.email,
        "organisation": person.organisation, "job_title": person.job_title, "category": person.category,
        "territory": person.territory, "delegation": "", "accessibility_needs": person.accessibility_needs,
        "workshops": [seat.session.code for seat in person.seats],
    }  # fmt: skip
    form.update(changes)
    return form


def test_organiser_edit_records_before_and_after_of_what_changed(as_organiser, demo_event, organiser):
    person = _person(demo_event)
    url = f"/e/{demo_event.slug}/admin/registrations/{person.id}/edit"

    response = as_organiser.post(url, data=_edit_form(person, organisation="Ville de Tourcoing", email="JK@example.org"))

    assert response.status_code == 302
    [entry] = _entries()
    assert entry.action == "registration.edit" and entry.user_id == organiser.id
    assert entry.summary == "Inscription modifiée : Jamal Khay (Ville de Roubaix) (adresse e-mail, organisation)"
    assert entry.details["changes"] == {
        "email": {"before": "jamal.khay@example.org", "after": "JK@example.org"},
        "organisation": {"before": "Ville de Roubaix", "after": "Ville de Tourcoing"},
    }
    assert entry.registration_id == person.id


def test_organiser_edit_of_workshops_only_records_the_workshop_change(as_organiser, demo_event):
    person = _person(demo_event, workshop_codes=["A1"])

    as_organiser.post(
        f"/e/{demo_event.slug}/admin/registrations/{person.id}/edit", data=_edit_form(person, workshops=["A2", "A6"])
    )

    [entry] = _entries()
    assert entry.action == "registration.workshops"
    assert entry.summary == "Ateliers modifiés : Jamal Khay (Ville de Roubaix) (ajout A2, A6 ; retrait A1)"
    assert entry.details["changes"] == {"workshops": {"before": ["A1"], "after": ["A2", "A6"]}}


def test_refused_or_empty_edit_records_nothing(as_organiser, demo_event):
    person = _person(demo_event)
    other = _person(demo_event, "Lina", "Ortiz")
    url = f"/e/{demo_event.slug}/admin/registrations/{person.id}/edit"

    taken = as_organiser.post(url, data=_edit_form(person, email=other.email, organisation="Autre"))
    overlapping = as_organiser.post(url, data=_edit_form(person, organisation="Autre", workshops=["A1", "A2"]))
    unchanged = as_organiser.post(url, data=_edit_form(person))

    assert (taken.status_code, overlapping.status_code, unchanged.status_code) == (422, 422, 302)
    assert _entries() == []


def test_the_attendees_own_changes_are_not_staff_actions(client, demo_event):
    person = _person(demo_event, workshop_codes=["A1"])

    client.post(f"/e/{demo_event.slug}/me/{person.access_token}/ateliers", data={"workshops": ["A2"]})
    client.post(f"/e/{demo_event.slug}/me/{person.access_token}/annuler", data={})

    db.session.expire_all()
    assert db.session.get(Registration, person.id).status == "cancelled"
    assert _entries() == []


def test_desk_registration_records_the_new_person_once(as_organiser, demo_event, organiser):
    form = {"first_name": "Françoise", "last_name": "Nguyen", "email": "f.nguyen@example.org", "category": "elu",
            "workshops": ["A4"]}  # fmt: skip

    created = as_organiser.post(f"/e/{demo_event.slug}/admin/registrations/new", data=form)
    again = as_organiser.post(f"/e/{demo_event.slug}/admin/registrations/new", data=form)
    invalid = as_organiser.post(f"/e/{demo_event.slug}/admin/registrations/new", data={**form, "email": "nope"})

    assert (created.status_code, again.status_code, invalid.status_code) == (302, 302, 422)
    [entry] = _entries()
    assert entry.action == "registration.desk" and entry.summary == "Inscription à l'accueil : Françoise Nguyen"
    assert entry.details["changes"]["workshops"] == {"before": None, "after": ["A4"]}
    assert entry.details["changes"]["status"]["after"] == "confirmed"


def test_cancel_confirm_and_reject_each_record_one_entry(as_organiser, demo_event, organiser):
    demo_event.approval_required = True
    db.session.commit()
    waiting = registration.register(
        demo_event, registration.RegistrationInput("Inès", "Roux", "ines@example.org", consent=True), source="form"
    ).registration
    refused = registration.register(
        demo_event, registration.RegistrationInput("Paul", "Morel", "paul@example.org", consent=True), source="form"
    ).registration
    person = _person(demo_event)
    base = f"/e/{demo_event.slug}/admin/registrations"

    as_organiser.post(f"{base}/{waiting.id}/confirm")
    as_organiser.post(f"{base}/{refused.id}/reject")
    as_organiser.post(f"{base}/{person.id}/cancel")
    as_organiser.post(f"{base}/{person.id}/cancel")  # already cancelled: nothing happens
    as_organiser.post(f"{base}/{refused.id}/reject")  # already rejected: nothing happens

    assert [(e.action, e.summary, e.details["changes"]["status"]) for e in _entries()] == [
        ("registration.confirm", "Inscription confirmée : Inès Roux", {"before": "pending", "after": "confirmed"}),
        ("registration.reject", "Inscription refusée : Paul Morel", {"before": "pending", "after": "rejected"}),
        ("registration.cancel", "Inscription annulée : Jamal Khay (Ville de Roubaix)",
         {"before": "confirmed", "after": "cancelled"}),
    ]  # fmt: skip


def test_delegation_import_records_one_entry_without_names(as_organiser, demo_event):
    csv = "prenom;nom;email;organisation;delegation\nAnna;Lopez;anna@example.org;Lille;Hauts-de-France\n" \
          "Marc;Petit;marc@example.org;Roubaix;Hauts-de-France\n"

    response = as_organiser.post(
        f"/e/{demo_event.slug}/admin/delegations/import",
        data={"file": (__import__("io").BytesIO(csv.encode()), "delegation.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302, _text(response)
    [entry] = _entries()
    assert entry.action == "registration.import"
    assert entry.summary == "Import de 2 personne(s) — Hauts-de-France"
    assert "Anna" not in str(entry.details) and len(entry.details["registration_ids"]) == 2


def test_erasing_a_person_redacts_the_entries_that_name_them(as_organiser, client, demo_event):
    person = _person(demo_event)
    keep = _person(demo_event, "Lina", "Ortiz")
    base = f"/e/{demo_event.slug}/admin/registrations"
    as_organiser.post(f"{base}/{person.id}/edit", data=_edit_form(person, organisation="Ville de Lille"))
    as_organiser.post(f"{base}/{keep.id}/badge/reissue")
    as_organiser.post("/logout")

    client.post(f"/e/{demo_event.slug}/me/{person.access_token}/effacer", data={})

    erased, kept = _entries()
    assert erased.action == "registration.edit"
    assert erased.summary == "Inscription modifiée (données personnelles effacées)"
    assert erased.details == {} and "Jamal" not in erased.summary
    assert kept.summary.startswith("Badge réédité : Lina Ortiz")


# --- badges ---------------------------------------------------------------------------------------------


def test_badge_reissue_records_the_old_and_new_numbers(as_organiser, demo_event, organiser):
    person = _person(demo_event)

    response = as_organiser.post(f"/e/{demo_event.slug}/admin/registrations/{person.id}/badge/reissue")

    assert response.status_code == 302
    [entry] = _entries()
    assert entry.action == "badge.reissue" and entry.user_id == organiser.id
    assert entry.summary == "Badge réédité : Jamal Khay (Ville de Roubaix) (badge n° 2 ; le n° 1 ne permet plus d'entrer)"
    assert entry.details["changes"] == {"badge_serial": {"before": 1, "after": 2}}


def test_badge_reissue_refused_to_a_volunteer_records_nothing(client, login, demo_event, make_user):
    person = _person(demo_event)
    login(make_user("volunteer", demo_event))

    response = client.post(f"/e/{demo_event.slug}/admin/registrations/{person.id}/badge/reissue")

    assert response.status_code == 403
    assert _entries() == []


# --- the report -----------------------------------------------------------------------------------------


def test_publication_and_withdrawal_are_recorded_and_a_refusal_is_not(demo_event, organiser):
    notes_demo.load_demo_notes(demo_event)
    with pytest.raises(Conflict):
        report.publish(demo_event, organiser)  # no review yet
    with pytest.raises(Conflict):
        report.withdraw(demo_event, organiser)  # not online
    review.start_review(demo_event, organiser)

    report.publish(demo_event, organiser, note="Première version")
    report.withdraw(demo_event, organiser)

    assert [(e.action, e.summary) for e in _entries()] == [
        ("report.publish", "Rapport publié : version 1 — « Première version »"),
        ("report.withdraw", "Rapport retiré du site : version(s) 1 hors ligne"),
    ]
    assert _entries()[0].details["changes"] == {"status": {"before": "review", "after": "published"}}


def test_consent_recorded_by_an_organiser_is_journaled(as_organiser, demo_event, organiser):
    from tests.test_report_approvals import _quote

    quote_id = _quote(demo_event, organiser)
    url = f"/e/{demo_event.slug}/admin/report/quotes"

    missing = as_organiser.post(url, data={"action": "record", "note_id": str(quote_id)})
    done = as_organiser.post(url, data={"action": "record", "note_id": str(quote_id), "state": "approved",
                                         "comment": "Au téléphone"})  # fmt: skip

    assert (missing.status_code, done.status_code) == (422, 303)
    [entry] = _entries()
    assert entry.action == "quote.consent" and entry.target_id == quote_id
    assert entry.summary == (
        "Accord de citation enregistré : Élise Martin, Directrice du développement, Rennes Métropole — accord donné"
    )
    assert entry.details["changes"] == {"state": {"before": None, "after": "approved"}}


# --- staff roles ----------------------------------------------------------------------------------------


def test_rapporteur_invitation_sessions_and_removal_are_recorded(as_organiser, demo_event, organiser):
    base = f"/e/{demo_event.slug}/admin/rapporteurs"
    as_organiser.post(f"{base}/invite", data={"email": "marie@example.org", "name": "Marie Curie"})
    [invited] = _entries()
    user_id = invited.target_id
    a1 = next(s for s in demo_event.sessions if s.code == "A1")

    as_organiser.post(f"{base}/{user_id}/resend")
    as_organiser.post(f"{base}/{user_id}/sessions", data={f"r{user_id}-session_id": str(a1.id)})
    as_organiser.post(f"{base}/{user_id}/sessions", data={f"r{user_id}-session_id": str(a1.id)})  # already: no entry
    as_organiser.post(f"{base}/{user_id}/sessions/{a1.id}/remove")
    as_organiser.post(f"{base}/{user_id}/sessions/{a1.id}/remove")  # no longer: no entry
    as_organiser.post(f"{base}/{user_id}/remove")

    assert [(e.action, e.summary) for e in _entries()] == [
        ("staff.invite", "Rapporteur·rice invité·e : Marie Curie (marie@example.org)"),
        ("staff.resend", "Invitation renvoyée : Marie Curie (marie@example.org)"),
        ("staff.assign", "Session confiée : A1 à Marie Curie (marie@example.org)"),
        ("staff.unassign", "Session retirée : A1 à Marie Curie (marie@example.org)"),
        ("staff.remove", "Rôle retiré : Marie Curie (marie@example.org) n'est plus rapporteur·rice"),
    ]
    assert all(e.user_id == organiser.id for e in _entries())
    assert "token" not in str([e.details for e in _entries()])


def test_refused_invitation_records_nothing(as_organiser, demo_event, make_user):
    volunteer = make_user("volunteer", demo_event)

    response = as_organiser.post(
        f"/e/{demo_event.slug}/admin/rapporteurs/invite", data={"email": volunteer.email, "name": "Bénévole"}
    )

    assert response.status_code == 422
    assert _entries() == []


def test_role_given_on_the_command_line_is_recorded_without_an_actor(app, demo_event):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["users", "create", "chef@example.org", "--name", "Chef", "--event", demo_event.slug,
                                 "--role", "organiser", "--password", "un-mot-de-passe-long"])  # fmt: skip
    again = runner.invoke(args=["users", "create", "chef@example.org", "--event", demo_event.slug,
                                "--role", "organiser", "--password", "un-autre-mot-de-passe"])  # fmt: skip

    assert result.exit_code == 0 and again.exit_code == 0, result.output + again.output
    [entry] = _entries()  # the second call changed the password only
    assert entry.action == "staff.role" and entry.event_id == demo_event.id and entry.user_id is None
    assert entry.summary == "Rôle attribué : Chef (chef@example.org) — organisateur·rice de l'événement"
    assert "mot-de-passe" not in str(entry.details) and "password" not in str(entry.details)


# --- the record itself ----------------------------------------------------------------------------------


def test_record_drops_secrets_and_waits_for_the_callers_commit(demo_event, organiser):
    audit.record(demo_event.id, organiser, "badge.reissue", "registration", 1, "Essai",
                 {"password": "x", "nested": {"access_token": "y", "kept": 1}, "token_hash": "z"})  # fmt: skip
    db.session.rollback()
    assert _entries() == []

    audit.record(demo_event.id, organiser, "badge.reissue", "registration", 1, "Essai",
                 {"password": "x", "nested": {"access_token": "y", "kept": 1}, "token_hash": "z"})  # fmt: skip
    db.session.commit()

    [entry] = _entries()
    assert entry.details == {"nested": {"kept": 1}}


def test_entry_reads_the_same_after_the_account_is_deleted(demo_event, organiser):
    person = _person(demo_event)
    badges.reissue(person, actor=organiser)

    db.session.delete(organiser)
    db.session.commit()

    [entry] = _entries()
    assert entry.user_id is None and (entry.actor_name, entry.actor_email) == ("Awa Diallo", "organiser0@example.org")


def test_purge_of_an_event_keeps_what_was_done_and_forgets_who(demo_event, organiser):
    person = _person(demo_event)
    badges.reissue(person, actor=organiser)

    assert audit.erase_personal_data(demo_event.id) == 1
    db.session.commit()

    [entry] = _entries()
    assert (entry.action, entry.summary, entry.details) == ("badge.reissue", "Badge réédité (données personnelles effacées)", {})
    assert (entry.user_id, entry.actor_name, entry.actor_email) == (None, "", "")


# --- the organisers' page -------------------------------------------------------------------------------


def _journal(client, event, query: str = ""):
    return client.get(f"/e/{event.slug}/admin/audit{query}")


def test_journal_shows_newest_first_with_french_dates_and_escaped_text(app, as_organiser, demo_event, organiser):
    person = _person(demo_event, "<b>Jamal</b>", "Khay", email="jk@example.org")
    badges.reissue(person, actor=organiser)
    app.config["FORUM_NOW"] = "2019-06-06T11:05:00+02:00"
    registration.cancel(person, actor=organiser)

    response = _journal(as_organiser, demo_event)

    page = _text(response)
    assert response.status_code == 200
    assert page.index("Inscription annulée") < page.index("Badge réédité")
    assert "6 juin 2019 à 11 h 05" in page and "6 juin 2019 à 9 h 30" in page
    assert "Par Awa Diallo" in page
    assert "Statut avant : Confirmée → après : Annulée" in page  # coded values shown in words
    assert "&lt;b&gt;Jamal&lt;/b&gt;" in response.get_data(as_text=True)
    assert 'aria-current="page">Journal des actions' in response.get_data(as_text=True)


def test_journal_filters_by_action_person_and_day(app, as_organiser, demo_event, organiser, make_user):
    other = make_user("organiser", demo_event)
    first, second = _person(demo_event), _person(demo_event, "Lina", "Ortiz")
    badges.reissue(first, actor=organiser)
    app.config["FORUM_NOW"] = "2019-06-07T10:00:00+02:00"
    badges.reissue(second, actor=other)
    registration.cancel(second, actor=organiser)

    by_action = _text(_journal(as_organiser, demo_event, "?action=badge.reissue"))
    by_person = _text(_journal(as_organiser, demo_event, f"?person={other.id}"))
    by_day = _text(_journal(as_organiser, demo_event, "?day=2019-06-06"))
    nothing = _text(_journal(as_organiser, demo_event, "?action=report.publish"))

    assert "2 actions" in by_action and "Inscription annulée :" not in by_action
    assert "1 action" in by_person and "Badge réédité : Lina Ortiz" in by_person
    assert "1 action" in by_day and "Badge réédité : Jamal Khay" in by_day
    assert "Aucune action ne correspond." in nothing


def test_journal_pages_by_fifty(as_organiser, demo_event, organiser):
    for n in range(audit.PAGE_SIZE + 3):
        audit.record(demo_event.id, organiser, "badge.reissue", "registration", n, f"Entrée {n:03d}")
    db.session.commit()

    first = _text(_journal(as_organiser, demo_event))
    second = _text(_journal(as_organiser, demo_event, "?page=2"))
    beyond = _journal(as_organiser, demo_event, "?page=99")

    assert "53 actions · page 1 sur 2" in first and "Entrée 052" in first and "Entrée 002" not in first
    assert "Entrée 002" in second and "Entrée 052" not in second and "Plus récentes" in second
    assert beyond.status_code == 200 and "page 2 sur 2" in _text(beyond)


def test_journal_shows_only_its_own_events_entries(as_organiser, demo_event, organiser):
    audit.record(None, organiser, "staff.role", "user", organiser.id, "Site : rôle donné")
    db.session.commit()

    assert "Aucune action enregistrée" in _text(_journal(as_organiser, demo_event))


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 302), ("volunteer", 403), ("rapporteur", 403), ("elsewhere", 403), ("organiser", 200), ("admin", 200)],
)
def test_journal_is_for_the_events_organisers_and_site_admins(client, login, demo_event, make_user, role, expected):
    from forum_app.programme.models import Event

    if role == "elsewhere":
        other = Event(slug="autre", title="Autre", start_date=demo_event.start_date, end_date=demo_event.end_date)
        db.session.add(other)
        db.session.commit()
        login(make_user("organiser", other))
    elif role == "admin":
        login(make_user(None, admin=True))
    elif role:
        login(make_user(role, demo_event))

    response = _journal(client, demo_event)

    assert response.status_code == expected
    if role is None:
        assert response.headers["Location"].startswith("/login")


def test_journal_has_no_route_to_change_an_entry(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")]

    assert [(rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"})) for rule in rules] == [
        ("/e/<slug>/admin/audit", ["GET"])
    ]


# --- the programme ----------------------------------------------------------------------------------


def _session_form(**overrides) -> dict:
    data = {
        "code": "B2", "title": "Table ronde Europe", "subtitle": "", "kind": "round-table", "track_id": "",
        "room_id": "", "day": "2019-06-07", "starts": "14:15", "ends": "15:45",
        "abstract": "Les fonds européens dans les quartiers.", "description": "", "capacity": "",
    }
    data.update(overrides)
    return data


def test_session_added_edited_and_deleted_are_each_recorded_with_what_changed(as_organiser, demo_event, organiser):
    admin = f"/e/{demo_event.slug}/admin"

    as_organiser.post(f"{admin}/sessions/new", data=_session_form())
    session = next(s for s in demo_event.sessions if s.code == "B2")
    as_organiser.post(f"{admin}/sessions/{session.id}", data=_session_form(title="Europe et quartiers", starts="14:30"))
    as_organiser.post(f"{admin}/sessions/{session.id}/delete")

    created, edited, deleted = _entries()
    assert (created.action, created.user_id, created.target_id) == ("programme.session.create", organiser.id, session.id)
    assert created.summary == "Session ajoutée : B2 — Table ronde Europe"
    assert created.details["changes"]["starts"] == {"before": None, "after": "7 juin 2019 à 14 h 15"}
    assert edited.summary == "Session modifiée : B2 — Europe et quartiers"
    assert edited.details["changes"] == {
        "title": {"before": "Table ronde Europe", "after": "Europe et quartiers"},
        "starts": {"before": "7 juin 2019 à 14 h 15", "after": "7 juin 2019 à 14 h 30"},
    }
    assert deleted.action == "programme.session.delete" and deleted.summary == "Session supprimée : B2 — Europe et quartiers"


def test_session_saved_unchanged_or_refused_records_nothing(as_organiser, demo_event):
    admin = f"/e/{demo_event.slug}/admin"
    workshop = next(s for s in demo_event.sessions if s.code == "A1")
    shown = programme.session_form_values(demo_event, workshop)  # what the edit form holds
    values = {key: "" if value is None else str(value) for key, value in shown.items() if key != "signup_required"}
    values |= {"starts": shown["starts"].strftime("%H:%M"), "ends": shown["ends"].strftime("%H:%M")}
    if shown["signup_required"]:
        values["signup_required"] = "y"

    unchanged = as_organiser.post(f"{admin}/sessions/{workshop.id}", data=values)
    refused = as_organiser.post(f"{admin}/sessions/{workshop.id}", data={**values, "title": ""})

    assert (unchanged.status_code, refused.status_code) == (302, 422)
    assert _entries() == []


def test_speaker_added_and_removed_are_recorded(as_organiser, demo_event, organiser):
    admin = f"/e/{demo_event.slug}/admin"
    workshop = next(s for s in demo_event.sessions if s.code == "A1")
    person = demo_event.people[0]

    as_organiser.post(f"{admin}/sessions/{workshop.id}/people", data={"person_id": person.id, "role": "moderator"})
    link = next(link for link in workshop.people if link.person_id == person.id and link.role == "moderator")
    as_organiser.post(f"{admin}/sessions/{workshop.id}/people/{link.id}/remove")

    added, removed = _entries("programme.speakers")
    assert added.summary == f"Intervenant·e ajouté·e : {person.name} (animation), session A1"
    assert removed.summary == f"Intervenant·e retiré·e : {person.name} (animation), session A1"
    assert added.user_id == organiser.id


def test_rooms_tracks_and_people_changes_are_recorded_in_french(as_organiser, demo_event):
    admin = f"/e/{demo_event.slug}/admin"

    as_organiser.post(f"{admin}/rooms/new", data={"name": "Salle Ouessant", "capacity": "40"})
    room = next(r for r in demo_event.rooms if r.name == "Salle Ouessant")
    as_organiser.post(f"{admin}/rooms/{room.id}", data={"name": "Salle Ouessant", "capacity": "60"})
    as_organiser.post(f"{admin}/rooms/{room.id}/delete")
    as_organiser.post(f"{admin}/tracks/new", data={"name": "Emploi", "colour": "#1d4ed8"})
    as_organiser.post(f"{admin}/people/new", data={"name": "Inès Martin", "job_title": "Maire", "organisation": ""})

    summaries = [(e.action, e.summary) for e in _entries()]
    assert summaries == [
        ("programme.room", "Salle ajoutée : Salle Ouessant"),
        ("programme.room", "Salle modifiée : Salle Ouessant"),
        ("programme.room", "Salle supprimée : Salle Ouessant"),
        ("programme.track", "Parcours ajouté : Emploi"),
        ("programme.person", "Personne ajoutée : Inès Martin"),
    ]
    assert _entries("programme.room")[1].details["changes"] == {"capacity": {"before": 40, "after": 60}}


def test_programme_changes_show_in_the_journal_with_their_labels(as_organiser, demo_event):
    admin = f"/e/{demo_event.slug}/admin"
    as_organiser.post(f"{admin}/rooms/new", data={"name": "Salle Ouessant", "capacity": "40"})

    page = _text(as_organiser.get(f"{admin}/audit?action=programme.room"))

    assert "Salle ajoutée : Salle Ouessant" in page
    assert "Capacité" in page and "Salles" in page
