"""Organiser screens for registrations and delegations: the list (search, filters, sorting, paging,
counts), one person's page and its actions, the desk form, delegations."""
from __future__ import annotations

import re
from html import unescape

import pytest

from forum_app.extensions import db
from forum_app.registration import services
from forum_app.registration.models import Delegation, Registration


@pytest.fixture
def organiser(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))
    return client


def person(event, first: str, last: str, *, source: str = "desk", **values) -> Registration:
    email = values.pop("email", f"{first}.{last}@example.org".lower().replace(" ", "").replace("'", ""))
    data = services.RegistrationInput(first, last, email, consent=True, **values)
    return services.register(event, data, source=source).registration


def text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def listed(response) -> list[str]:
    """The names on the list page, in order ("Last First")."""
    html = response.get_data(as_text=True)
    return [unescape(name).strip() for name in re.findall(r'<td class="title-cell">\s*<a href="[^"]+">([^<]+)</a>', html)]


def url(event, path: str = "") -> str:
    return f"/e/{event.slug}/admin/registrations{path}"


@pytest.fixture
def crowd(app, demo_event):
    """Five people of different kinds; Bénédicte waits for A3 (capacity lowered to 1)."""
    a3 = next(s for s in demo_event.sessions if s.code == "A3")
    a3.capacity = 1
    hdf = services.create_delegation(demo_event, "Délégation Hauts-de-France")
    people = {
        "benali": person(demo_event, "Nadia", "Bénali", organisation="IREV", category="centre_ressources",
                         territory="Hauts-de-France", delegation_id=hdf.id, workshop_codes=["A3"]),
        "benedicte": person(demo_event, "Bénédicte", "Arnaud", organisation="Rennes Métropole", category="collectivite",
                            territory="Rennes", workshop_codes=["A3", "A5"]),
        "zoe": person(demo_event, "Zoé", "Martin", organisation="Association Horizon", category="association",
                      territory="Rennes", workshop_codes=["A1"]),
        "oconnor": person(demo_event, "Liam", "O'Connor", organisation="Banque des Territoires", category="entreprise",
                          territory="Brest"),
        "chen": person(demo_event, "Wei", "Chen", organisation="Écoles de Brest", category="autre", territory="Brest"),
    }  # fmt: skip
    services.cancel(people["chen"])
    return people


# --- The list ---------------------------------------------------------------------------------------


def test_list_shows_everyone_with_counts_per_status(organiser, demo_event, crowd):
    response = organiser.get(url(demo_event))

    assert response.status_code == 200
    assert listed(response) == ["Arnaud Bénédicte", "Bénali Nadia", "Chen Wei", "Martin Zoé", "O'Connor Liam"]
    page = text(response)
    assert "Toutes 5" in page and "Confirmées 4" in page and "Annulées 1" in page and "En attente 0" in page
    assert "A3 attente n° 1" in page  # Bénédicte waits


def test_list_search_ignores_accents_and_case(organiser, demo_event, crowd):
    assert listed(organiser.get(url(demo_event, "?q=BENALI"))) == ["Bénali Nadia"]
    assert listed(organiser.get(url(demo_event, "?q=ecoles"))) == ["Chen Wei"]
    assert listed(organiser.get(url(demo_event, "?q=zoe.martin@"))) == ["Martin Zoé"]
    assert listed(organiser.get(url(demo_event, "?q=rennes métropole"))) == ["Arnaud Bénédicte"]


def test_list_search_with_no_match_says_so(organiser, demo_event, crowd):
    response = organiser.get(url(demo_event, "?q=personne-inconnue"))

    assert listed(response) == []
    assert "Aucune inscription ne correspond." in text(response)


def test_list_filters_by_status_category_territory(organiser, demo_event, crowd):
    assert listed(organiser.get(url(demo_event, "?status=cancelled"))) == ["Chen Wei"]
    assert listed(organiser.get(url(demo_event, "?category=association"))) == ["Martin Zoé"]
    assert listed(organiser.get(url(demo_event, "?territory=brest"))) == ["Chen Wei", "O'Connor Liam"]


def test_list_counts_follow_the_other_filters(organiser, demo_event, crowd):
    page = text(organiser.get(url(demo_event, "?territory=Brest")))

    assert "Toutes 2" in page and "Confirmées 1" in page and "Annulées 1" in page


def test_list_filters_by_delegation_or_none(organiser, demo_event, crowd):
    delegation_id = crowd["benali"].delegation_id

    assert listed(organiser.get(url(demo_event, f"?delegation={delegation_id}"))) == ["Bénali Nadia"]
    assert "Bénali Nadia" not in listed(organiser.get(url(demo_event, "?delegation=aucune")))


def test_list_with_a_delegation_filter_that_is_not_an_id_lists_everyone(organiser, demo_event, crowd):
    everyone = listed(organiser.get(url(demo_event)))

    for odd in ("²", "٣", "99999999999", "-1"):
        response = organiser.get(url(demo_event, f"?delegation={odd}"))
        assert response.status_code == 200, odd
        assert listed(response) == everyone, odd


def test_list_filters_by_workshop_and_seat(organiser, demo_event, crowd):
    assert listed(organiser.get(url(demo_event, "?workshop=a3"))) == ["Arnaud Bénédicte", "Bénali Nadia"]
    assert listed(organiser.get(url(demo_event, "?workshop=A3&seat=waitlisted"))) == ["Arnaud Bénédicte"]
    assert listed(organiser.get(url(demo_event, "?workshop=A3&seat=confirmed"))) == ["Bénali Nadia"]


def test_list_ignores_filter_values_it_does_not_know(organiser, demo_event, crowd):
    response = organiser.get(url(demo_event, "?status=zzz&category=<b>&delegation=abc&page=-4&sort=drop"))

    assert response.status_code == 200
    assert len(listed(response)) == 5


def test_list_sorts_by_organisation_date_and_status(organiser, demo_event, crowd):
    assert listed(organiser.get(url(demo_event, "?sort=organisation")))[0] == "Martin Zoé"  # Association Horizon
    assert listed(organiser.get(url(demo_event, "?sort=date")))[0] == "Chen Wei"  # the last one registered
    assert listed(organiser.get(url(demo_event, "?sort=status")))[-1] == "Chen Wei"  # cancelled after confirmed


def test_list_pages_by_fifty_and_page_links_keep_the_filters(organiser, demo_event):
    inputs = [services.RegistrationInput("Camille", f"Essai{n:03d}", f"c{n}@example.org", category="elu") for n in range(120)]
    services.register_many(demo_event, inputs, source="desk", notify=False)
    person(demo_event, "Dominique", "Autre", category="entreprise")

    first = organiser.get(url(demo_event, "?category=elu"))
    third = organiser.get(url(demo_event, "?category=elu&page=3"))

    assert len(listed(first)) == 50
    assert listed(first)[0] == "Essai000 Camille"
    assert listed(third) == [f"Essai{n:03d} Camille" for n in range(100, 120)]
    html = first.get_data(as_text=True)
    assert 'href="/e/citescap2019/admin/registrations?category=elu&amp;page=2"' in html
    assert "120 inscriptions · 1 à 50 affichées" in text(first)


def test_list_page_beyond_the_last_shows_the_last(organiser, demo_event, crowd):
    assert len(listed(organiser.get(url(demo_event, "?page=99")))) == 5


def test_list_has_export_and_attendance_links_with_the_filters(organiser, demo_event, crowd):
    html = organiser.get(url(demo_event, "?status=confirmed&q=rennes")).get_data(as_text=True)

    assert 'href="/e/citescap2019/admin/registrations/export.csv?q=rennes&amp;status=confirmed"' in html
    assert 'href="/e/citescap2019/admin/registrations/export.xlsx?q=rennes&amp;status=confirmed"' in html
    assert 'href="/e/citescap2019/admin/sessions/A1/attendance.pdf"' in html
    assert "/e/citescap2019/admin/badges.pdf?selection=unprinted" in html


def test_admin_navigation_has_registrations_and_delegations(organiser, demo_event):
    html = organiser.get(f"/e/{demo_event.slug}/admin/").get_data(as_text=True)

    assert f'href="/e/{demo_event.slug}/admin/registrations">Inscriptions</a>' in html
    assert f'href="/e/{demo_event.slug}/admin/delegations">Délégations</a>' in html


# --- One person -------------------------------------------------------------------------------------


def test_detail_shows_the_person_and_their_waiting_position(organiser, demo_event, crowd):
    response = organiser.get(url(demo_event, f"/{crowd['benedicte'].id}"))

    page = text(response)
    assert response.status_code == 200
    assert "Bénédicte Arnaud" in page and "Rennes Métropole" in page and "Collectivité" in page
    assert "Liste d'attente : n° 1" in page  # A3
    assert "Place confirmée" in page  # A5
    assert "Saisie à l'accueil" in page


def test_detail_of_another_events_registration_is_not_found(organiser, demo_event, crowd):
    assert organiser.get(url(demo_event, "/99999")).status_code == 404


def test_detail_reissue_form_posts_to_the_badges_route(organiser, demo_event, crowd):
    html = organiser.get(url(demo_event, f"/{crowd['zoe'].id}")).get_data(as_text=True)

    assert f'action="/e/{demo_event.slug}/admin/registrations/{crowd["zoe"].id}/badge/reissue"' in html
    assert 'name="csrf_token"' in html


def test_confirm_and_reject_pending_registrations(organiser, demo_event):
    demo_event.approval_required = True
    db.session.commit()
    first = person(demo_event, "Anne", "Leroy", source="form")
    second = person(demo_event, "Bruno", "Petit", source="form")
    assert (first.status, second.status) == ("pending", "pending")

    confirmed = organiser.post(url(demo_event, f"/{first.id}/confirm"))
    rejected = organiser.post(url(demo_event, f"/{second.id}/reject"))

    assert confirmed.status_code == rejected.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, first.id).status == "confirmed"
    assert db.session.get(Registration, second.id).status == "rejected"
    assert "Inscription de Anne Leroy confirmée" in text(organiser.get(confirmed.headers["Location"]))


def test_cancel_asks_first_then_frees_the_seat_for_the_next_person(organiser, demo_event, crowd):
    benali = crowd["benali"]

    question = organiser.get(url(demo_event, f"/{benali.id}/cancel"))
    done = organiser.post(url(demo_event, f"/{benali.id}/cancel"))

    assert "Voulez-vous vraiment annuler cette inscription ?" in text(question)
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, benali.id).status == "cancelled"
    seat = next(s for s in db.session.get(Registration, crowd["benedicte"].id).seats if s.session.code == "A3")
    assert seat.status == "confirmed"  # promoted from the waiting list


def test_resend_link_says_it_was_sent(organiser, demo_event, crowd):
    response = organiser.post(url(demo_event, f"/{crowd['zoe'].id}/resend"), follow_redirects=True)

    assert "Lien personnel renvoyé à Zoé Martin." in text(response)


def test_edit_changes_details_and_workshops(organiser, demo_event, crowd):
    zoe = crowd["zoe"]
    form = {
        "first_name": "Zoé", "last_name": "Martin-Durand", "email": zoe.email, "organisation": "Association Horizon",
        "job_title": "Coordinatrice", "category": "association", "territory": "Rennes", "delegation": "",
        "accessibility_needs": "Boucle magnétique", "workshops": ["A2", "A6"],
    }  # fmt: skip

    response = organiser.post(url(demo_event, f"/{zoe.id}/edit"), data=form)

    assert response.status_code == 302
    db.session.expire_all()
    zoe = db.session.get(Registration, zoe.id)
    assert (zoe.last_name, zoe.job_title, zoe.accessibility_needs) == ("Martin-Durand", "Coordinatrice", "Boucle magnétique")
    assert sorted(s.session.code for s in zoe.seats) == ["A2", "A6"]


def test_edit_refuses_overlapping_workshops_in_french(organiser, demo_event, crowd):
    zoe = crowd["zoe"]
    form = {"first_name": "Zoé", "last_name": "Martin", "email": zoe.email, "category": "association", "workshops": ["A1", "A2"]}

    response = organiser.post(url(demo_event, f"/{zoe.id}/edit"), data=form)

    assert response.status_code == 422
    assert "ont lieu en même temps" in text(response)
    db.session.expire_all()
    assert [s.session.code for s in db.session.get(Registration, zoe.id).seats] == ["A1"]


def test_edit_refused_for_its_workshops_saves_nothing_else(organiser, demo_event, crowd):
    zoe = crowd["zoe"]
    old_email = zoe.email
    form = {"first_name": "Zoé", "last_name": "Nouveau-Nom", "email": "zoe.nouvelle@example.org",
            "category": "association", "workshops": ["A1", "A2"]}  # fmt: skip

    response = organiser.post(url(demo_event, f"/{zoe.id}/edit"), data=form)

    assert response.status_code == 422
    db.session.expire_all()
    zoe = db.session.get(Registration, zoe.id)
    assert (zoe.email, zoe.last_name) == (old_email, "Martin")
    assert [s.session.code for s in zoe.seats] == ["A1"]


def test_edit_refuses_an_address_another_person_uses(organiser, demo_event, crowd):
    zoe, other = crowd["zoe"], crowd["oconnor"]
    form = {"first_name": "Zoé", "last_name": "Martin", "email": other.email.upper(), "category": "association",
            "workshops": ["A1"]}  # fmt: skip

    response = organiser.post(url(demo_event, f"/{zoe.id}/edit"), data=form)

    assert response.status_code == 422
    assert "Une autre inscription utilise déjà cette adresse." in text(response)


def test_desk_registration_is_confirmed_and_records_the_organiser(organiser, demo_event):
    demo_event.approval_required = True
    db.session.commit()
    form = {"first_name": "Françoise", "last_name": "N'Guyen-Lê", "email": "F.Nguyen@Example.org", "category": "elu",
            "territory": "Rennes", "workshops": ["A4"]}  # fmt: skip

    response = organiser.post(url(demo_event, "/new"), data=form)

    assert response.status_code == 302
    registration = db.session.scalar(db.select(Registration).filter_by(event_id=demo_event.id))
    assert (registration.first_name, registration.last_name) == ("Françoise", "N'Guyen-Lê")
    assert (registration.status, registration.source, registration.consent_version) == ("confirmed", "desk", "desk")
    assert [s.session.code for s in registration.seats] == ["A4"]
    assert "Recueilli à l'accueil" in text(organiser.get(response.headers["Location"]))


def test_desk_registration_of_a_known_email_creates_nobody(organiser, demo_event, crowd):
    form = {"first_name": "Nadia", "last_name": "Benali", "email": crowd["benali"].email.upper(), "category": "autre"}

    response = organiser.post(url(demo_event, "/new"), data=form, follow_redirects=True)

    assert "est déjà inscrit·e : rien n'a été créé" in text(response)
    assert db.session.scalar(db.select(db.func.count(Registration.id))) == 5


def test_desk_registration_with_missing_fields_shows_french_errors(organiser, demo_event):
    response = organiser.post(url(demo_event, "/new"), data={"first_name": "", "last_name": "", "email": "pas-une-adresse"})

    assert response.status_code == 422
    page = text(response)
    assert "Ce champ est obligatoire." in page
    assert "Saisissez une adresse e-mail valide" in page


def test_actions_without_csrf_token_change_nothing(app, organiser, demo_event, crowd):
    app.config["WTF_CSRF_ENABLED"] = True

    response = organiser.post(url(demo_event, f"/{crowd['zoe'].id}/cancel"))

    assert response.status_code == 400
    assert "Le formulaire a expiré" in text(response)
    db.session.expire_all()
    assert db.session.get(Registration, crowd["zoe"].id).status == "confirmed"


# --- Delegations ------------------------------------------------------------------------------------


def test_delegations_list_counts_members(organiser, demo_event, crowd):
    services.cancel(crowd["benali"])
    person(demo_event, "Kamel", "Saddedine", delegation_id=crowd["benali"].delegation_id)

    html = organiser.get(f"/e/{demo_event.slug}/admin/delegations").get_data(as_text=True)

    assert "Délégation Hauts-de-France" in html
    assert '<td class="number" data-label="Personnes">1 <span class="meta inline">(+ 1 annulée)</span></td>' in html


def test_create_and_rename_a_delegation(organiser, demo_event):
    created = organiser.post(f"/e/{demo_event.slug}/admin/delegations/new", data={"name": "Délégation Bretagne", "territory": "Bretagne"})
    delegation = db.session.scalar(db.select(Delegation).filter_by(event_id=demo_event.id))
    renamed = organiser.post(
        f"/e/{demo_event.slug}/admin/delegations/{delegation.id}",
        data={"name": "Délégation Grand Ouest", "contact_name": "Yann Le Goff", "contact_email": "yann@example.org"},
    )

    assert created.status_code == renamed.status_code == 302
    db.session.expire_all()
    delegation = db.session.get(Delegation, delegation.id)
    assert (delegation.name, delegation.contact_email) == ("Délégation Grand Ouest", "yann@example.org")


def test_create_a_delegation_with_a_taken_name_is_refused(organiser, demo_event, crowd):
    response = organiser.post(f"/e/{demo_event.slug}/admin/delegations/new", data={"name": "délégation hauts-de-france"})

    assert response.status_code == 422
    assert "existe déjà" in text(response)


def test_delete_an_empty_delegation(organiser, demo_event):
    delegation = services.create_delegation(demo_event, "Vide")

    response = organiser.post(f"/e/{demo_event.slug}/admin/delegations/{delegation.id}/delete")

    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Delegation.id))) == 0


def test_delete_a_delegation_with_members_is_refused_in_french(organiser, demo_event, crowd):
    delegation_id = crowd["benali"].delegation_id

    response = organiser.post(f"/e/{demo_event.slug}/admin/delegations/{delegation_id}/delete")

    assert response.status_code == 409
    assert "compte encore 1 personne" in text(response)
    assert db.session.get(Delegation, delegation_id) is not None


def test_list_filters_on_arrival_at_the_entrance(organiser, demo_event, crowd):
    from datetime import datetime, timezone

    from forum_app.checkin.models import CheckIn

    moment = datetime(2019, 6, 6, 7, 0, tzinfo=timezone.utc)

    def scan(registration, client_id, *, outcome="checked_in", session_id=None, undone=False):
        db.session.add(CheckIn(event_id=demo_event.id, registration_id=registration.id, session_id=session_id,
                               client_id=client_id, outcome=outcome, scanned_at=moment,
                               undone_at=moment if undone else None))

    scan(crowd["zoe"], "scan-zoe")
    scan(crowd["benali"], "scan-benali-workshop", session_id=crowd["benali"].seats[0].session_id)
    scan(crowd["oconnor"], "scan-oconnor-undone", undone=True)
    scan(crowd["benedicte"], "scan-benedicte-refused", outcome="not_confirmed")
    db.session.commit()

    arrived = listed(organiser.get(url(demo_event, "?arrived=oui")))
    expected = listed(organiser.get(url(demo_event, "?arrived=non")))

    assert arrived == ["Martin Zoé"]
    assert len(expected) == 4 and "Martin Zoé" not in expected