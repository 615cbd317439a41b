"""Attendee pages: the registration form, the confirmation, the privacy notice and the
attendee's own space behind their private link (badge, workshops, agenda, edit, cancel, data)."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import lxml.html

from forum_app import create_app, mail
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.programme import imports
from forum_app.programme.models import Event, Session
from forum_app.registration.models import Delegation, Registration

DEMO_JSON = Path(__file__).resolve().parent.parent / "forum_app" / "demo_data" / "citescap-programme.json"


# --- helpers ---


def page_of(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def text_of(response) -> str:
    """The visible text of <main>, whitespace (no-break spaces of French punctuation too) collapsed."""
    tree = page_of(response)
    main = tree.find(".//main")
    return " ".join((main if main is not None else tree).text_content().replace("\xa0", " ").split())


def form_data(**overrides) -> dict:
    data = {
        "first_name": "Camille",
        "last_name": "Durand",
        "email": "camille.durand@example.org",
        "organisation": "Ville de Rennes",
        "job_title": "Cheffe de projet politique de la ville",
        "category": "collectivite",
        "territory": "Rennes",
        "delegation": "",
        "accessibility_needs": "",
        "consent": "y",
        "website": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def code_of(event: Event, title_start: str) -> str:
    return next(s.code for s in event.sessions if s.title.startswith(title_start))


def registrations() -> list[Registration]:
    return list(db.session.scalars(db.select(Registration).order_by(Registration.id)))


def outbox(app) -> list:
    return mail.memory_outbox(app)


def mail_text(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else str(message)


def register(client, event: Event, **overrides):
    return client.post(f"/e/{event.slug}/register", data=form_data(**overrides))


def registered(client, event: Event, **overrides) -> Registration:
    response = register(client, event, **overrides)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    email = form_data(**overrides)["email"].strip().casefold()
    return db.session.scalar(db.select(Registration).filter_by(event_id=event.id, email_key=email))


def me_url(event: Event, registration: Registration, suffix: str = "") -> str:
    return f"/e/{event.slug}/me/{registration.access_token}{suffix}"


def without_csrf_and_nonce(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*>', "", html)


# --- the form ---


def test_register_form_labels_every_field(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/register")

    assert response.status_code == 200
    tree = page_of(response)
    form = tree.find(".//form")
    labelled = {label.get("for") for label in form.iter("label")}
    fields = [
        element for element in form.iter("input", "select", "textarea")
        if element.get("type") not in ("hidden", "submit")
    ]
    assert len(fields) > 10
    assert [f.get("id") for f in fields if f.get("id") not in labelled] == []
    names = {f.get("name") for f in fields}
    for name in ("first_name", "last_name", "email", "organisation", "job_title", "category", "territory",
                 "accessibility_needs", "consent", "workshops"):
        assert name in names


def test_register_form_offers_french_categories_and_workshops_with_seats_left(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/register")

    text = text_of(response)
    options = [o.text_content() for o in page_of(response).iter("option")]
    for label in ("Collectivité", "Élu·e", "État", "Association", "Entreprise", "Centre de ressources",
                  "Habitant·e", "Autre"):
        assert label in options
    assert "Atelier 1 — Immobilier d'entreprise en QPV" in text
    assert "jeudi 6 juin · 11 h 30 – 13 h 00" in text
    assert "Salle Vilaine" in text
    assert "places restantes : 60" in text


def test_register_consent_states_purpose_and_retention_and_links_the_privacy_notice(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/register")

    tree = page_of(response)
    label = tree.xpath("//label[@for='consent']")[0].text_content()
    assert "organiser le forum" in label
    assert "12 mois après l'événement" in label
    assert tree.xpath(f"//a[@href='/e/{demo_event.slug}/confidentialite']")


def test_register_honeypot_is_hidden_from_people_and_assistive_technologies(client, demo_event):
    tree = page_of(client.get(f"/e/{demo_event.slug}/register"))

    trap = tree.xpath("//input[@name='website']")[0]
    wrapper = trap.getparent()
    assert wrapper.get("aria-hidden") == "true"
    assert "hp-field" in wrapper.get("class")
    assert trap.get("tabindex") == "-1"
    assert trap.get("autocomplete") == "off"


def test_privacy_notice_says_who_why_how_long_and_the_rights(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/confidentialite")

    assert response.status_code == 200
    text = text_of(response)
    assert "équipe d'organisation" in text
    assert "organiser le forum" in text
    assert "statistiques de participation" in text
    assert "12 mois après l'événement" in text
    assert "7 juin 2020" in text  # the demo forum ends on 7 June 2019
    for right in ("consulter", "télécharger", "effacer"):
        assert right in text


# --- registering ---


def test_register_creates_the_registration_and_emails_the_private_link(app, client, demo_event):
    a1 = code_of(demo_event, "Atelier 1")

    response = register(client, demo_event, workshops=[a1])

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/e/{demo_event.slug}/register/merci")
    [registration] = registrations()
    assert registration.full_name == "Camille Durand"
    assert registration.category == "collectivite"
    assert registration.consent_at is not None
    assert [seat.session.code for seat in registration.seats] == [a1]
    [message] = outbox(app)
    assert message["To"].addresses[0].addr_spec == "camille.durand@example.org"
    assert f"/e/{demo_event.slug}/me/{registration.access_token}" in mail_text(message)


def test_confirmation_says_check_your_mailbox_and_never_shows_the_link(client, demo_event):
    registration = registered(client, demo_event)

    response = client.get(f"/e/{demo_event.slug}/register/merci")

    assert response.status_code == 200
    text = text_of(response)
    assert "Vérifiez votre boîte mail" in text
    assert "camille.durand@example.org" in text
    assert registration.access_token not in response.get_data(as_text=True)
    assert "/me/" not in response.get_data(as_text=True)


def test_register_duplicate_email_looks_exactly_like_a_new_registration(app, client, demo_event):
    first = register(client, demo_event)
    first_page = client.get(first.headers["Location"])

    again = register(client, demo_event, email="Camille.DURAND@Example.org", first_name="Autre")
    again_page = client.get(again.headers["Location"])

    assert (again.status_code, again.headers["Location"]) == (first.status_code, first.headers["Location"])
    assert without_csrf_and_nonce(again_page.get_data(as_text=True)).replace("Camille.DURAND@Example.org", "X") == \
        without_csrf_and_nonce(first_page.get_data(as_text=True)).replace("camille.durand@example.org", "X")
    [registration] = registrations()
    assert registration.first_name == "Camille"  # nothing changed
    assert len(outbox(app)) == 2  # the link was sent again, to the registered address
    assert registration.access_token in mail_text(outbox(app)[1])


def test_register_double_click_registers_once(client, demo_event):
    first = register(client, demo_event)
    second = register(client, demo_event)

    assert first.status_code == second.status_code == 303
    assert len(registrations()) == 1


def test_register_form_is_marked_to_be_sent_once(client, demo_event):
    tree = page_of(client.get(f"/e/{demo_event.slug}/register"))

    assert tree.xpath("//form[@data-submit-once]")
    assert tree.xpath("//script[contains(@src, 'js/attendee.js')]")


def test_register_honeypot_answers_like_a_success_and_stores_nothing(app, client, demo_event):
    response = register(client, demo_event, website="http://spam.example")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/e/{demo_event.slug}/register/merci")
    assert "Vérifiez votre boîte mail" in text_of(client.get(response.headers["Location"]))
    assert registrations() == []
    assert outbox(app) == []


def test_register_errors_are_in_french_next_to_each_field_and_keep_what_was_typed(client, demo_event):
    a1 = code_of(demo_event, "Atelier 1")

    response = register(
        client, demo_event, last_name="", email="pas-une-adresse", consent=None, category="",
        organisation="Métropole d'Aix-Marseille", accessibility_needs="Fauteuil roulant", workshops=[a1],
    )

    assert response.status_code == 422
    tree = page_of(response)
    assert tree.xpath("//div[@id='error-summary' and @role='alert']")
    assert "Ce champ est obligatoire." in tree.get_element_by_id("last_name-error").text_content()
    assert "adresse e-mail valide" in tree.get_element_by_id("email-error").text_content()
    assert "Choisissez une catégorie." in tree.get_element_by_id("category-error").text_content()
    assert "Votre accord est nécessaire" in tree.get_element_by_id("consent-error").text_content()
    assert tree.get_element_by_id("last_name").get("aria-invalid") == "true"
    assert "last_name-error" in tree.get_element_by_id("last_name").get("aria-describedby")
    # nothing typed is lost
    assert tree.get_element_by_id("first_name").get("value") == "Camille"
    assert tree.get_element_by_id("email").get("value") == "pas-une-adresse"
    assert tree.get_element_by_id("organisation").get("value") == "Métropole d'Aix-Marseille"
    assert tree.get_element_by_id("accessibility_needs").text_content().strip() == "Fauteuil roulant"
    assert tree.get_element_by_id(f"workshop-{a1}").get("checked") is not None
    assert registrations() == []


def test_register_overlong_field_gets_a_clear_message(client, demo_event):
    response = register(client, demo_event, last_name="L" * 101)

    assert response.status_code == 422
    assert "100 caractères au maximum." in page_of(response).get_element_by_id("last_name-error").text_content()
    assert registrations() == []


def test_register_overlapping_workshops_are_refused_with_the_reason(client, demo_event):
    a1, a2 = code_of(demo_event, "Atelier 1"), code_of(demo_event, "Atelier 2")

    response = register(client, demo_event, workshops=[a1, a2])

    assert response.status_code == 422
    message = page_of(response).get_element_by_id("workshops-error").text_content()
    assert "en même temps" in message
    assert a1 in message and a2 in message
    assert registrations() == []


def test_register_reports_clashing_workshops_together_with_the_other_errors(client, demo_event):
    a1, a2 = code_of(demo_event, "Atelier 1"), code_of(demo_event, "Atelier 2")

    response = register(client, demo_event, last_name="", workshops=[a1, a2])

    tree = page_of(response)
    assert "Ce champ est obligatoire." in tree.get_element_by_id("last_name-error").text_content()
    assert "en même temps" in tree.get_element_by_id("workshops-error").text_content()
    summary = [li.text_content() for li in tree.get_element_by_id("error-summary").iter("li")]
    assert summary[0].startswith("Nom") and summary[1].startswith("Ateliers")


def test_register_keeps_names_in_any_script_exactly(client, demo_event):
    registration = registered(
        client, demo_event, first_name="Zoé-Anaïs", last_name="N'Diaye", organisation="Мэрия Санкт-Петербурга",
        job_title="Chargée d’études « quartiers »", email="zoe@example.org",
    )

    text = text_of(client.get(me_url(demo_event, registration)))

    assert "Zoé-Anaïs N'Diaye" in text
    assert "Мэрия Санкт-Петербурга" in text
    assert "Chargée d’études « quartiers »" in text


def test_register_escapes_markup_typed_in_fields(client, demo_event):
    registration = registered(client, demo_event, organisation="<script>alert(1)</script>", email="x@example.org")

    html = client.get(me_url(demo_event, registration)).get_data(as_text=True)

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_register_with_a_delegation(client, demo_event):
    delegation = Delegation(event_id=demo_event.id, name="Délégation Hauts-de-France", territory="Hauts-de-France")
    db.session.add(delegation)
    db.session.commit()
    tree = page_of(client.get(f"/e/{demo_event.slug}/register"))
    assert "Délégation Hauts-de-France" in [o.text_content() for o in tree.iter("option")]

    registration = registered(client, demo_event, delegation=str(delegation.id))

    assert registration.delegation_id == delegation.id


def test_register_full_workshop_says_waiting_list(client, demo_event):
    a1 = code_of(demo_event, "Atelier 1")
    session = db.session.scalar(db.select(Session).filter_by(event_id=demo_event.id, code=a1))
    session.capacity = 1
    db.session.commit()
    registered(client, demo_event, email="first@example.org", workshops=[a1])

    text = text_of(client.get(f"/e/{demo_event.slug}/register"))

    assert "complet — liste d'attente" in text


def test_register_is_closed_outside_the_registration_window(app, client, demo_event):
    demo_event.registration_closes_at = datetime(2019, 6, 1, 22, 0, tzinfo=UTC)
    db.session.commit()
    app.config["FORUM_NOW"] = "2019-06-03T10:00:00+02:00"

    page = client.get(f"/e/{demo_event.slug}/register")
    post = register(client, demo_event)

    assert page.status_code == 200
    assert "Les inscriptions sont closes" in text_of(page)
    assert "dimanche 2 juin 2019 à 0 h 00" in text_of(page)
    assert page_of(page).find(".//form") is None
    assert post.status_code == 403
    assert registrations() == []


def test_register_not_yet_open_says_when_it_opens(app, client, demo_event):
    demo_event.registration_opens_at = datetime(2019, 5, 1, 7, 0, tzinfo=UTC)
    db.session.commit()
    app.config["FORUM_NOW"] = "2019-04-20T10:00:00+02:00"

    text = text_of(client.get(f"/e/{demo_event.slug}/register"))

    assert "pas encore ouvertes" in text
    assert "mercredi 1 mai 2019 à 9 h 00" in text


def test_register_unknown_event_is_404(client, demo_event):
    assert client.get("/e/nope/register").status_code == 404


def test_register_refuses_a_post_without_csrf_token_when_csrf_is_on():
    class CsrfConfig(TestConfig):
        WTF_CSRF_ENABLED = True

    csrf_app = create_app(CsrfConfig)
    with csrf_app.app_context():
        db.create_all()
        event = imports.import_schedule_file(DEMO_JSON).event
        client = csrf_app.test_client()

        response = client.post(f"/e/{event.slug}/register", data=form_data())

        assert response.status_code == 400
        assert db.session.scalar(db.select(db.func.count(Registration.id))) == 0
        # with the token from the page, the same data registers
        token = page_of(client.get(f"/e/{event.slug}/register")).xpath("//input[@name='csrf_token']")[0].get("value")
        assert client.post(f"/e/{event.slug}/register", data=form_data(csrf_token=token)).status_code == 303
        db.session.remove()
        db.drop_all()


def test_register_is_rate_limited_per_address_when_the_limiter_is_on():
    class LimitedConfig(TestConfig):
        RATELIMIT_ENABLED = True

    limited_app = create_app(LimitedConfig)
    with limited_app.app_context():
        db.create_all()
        event = imports.import_schedule_file(DEMO_JSON).event
        client = limited_app.test_client()

        answers = [register(client, event, email=f"p{n}@example.org").status_code for n in range(11)]

        assert answers[:10] == [303] * 10
        assert answers[10] == 429
        refused = register(client, event, email="late@example.org")
        assert "Trop de tentatives" in text_of(refused)
        assert client.get(f"/e/{event.slug}/register").status_code == 200  # reading the form is not limited
        assert client.post(f"/e/{event.slug}/register", data=form_data(email="other@example.org"),
                           environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 303
        db.session.remove()
        db.drop_all()


# --- the attendee's space ---


def test_me_shows_badge_status_workshops_agenda_and_links(client, demo_event):
    a1, a5 = code_of(demo_event, "Atelier 1"), code_of(demo_event, "Atelier 5")
    registration = registered(client, demo_event, workshops=[a1, a5])

    response = client.get(me_url(demo_event, registration))

    assert response.status_code == 200
    tree = page_of(response)
    text = text_of(response)
    assert "Camille Durand" in text and "Ville de Rennes" in text
    assert "Inscription confirmée" in text
    qr = tree.xpath("//div[contains(@class, 'badge-qr')]")[0]
    assert qr.get("role") == "img" and "Camille Durand" in qr.get("aria-label")
    assert qr.find(".//svg") is not None or "<svg" in lxml.html.tostring(qr, encoding="unicode")
    assert "place confirmée" in text
    assert "Atelier 1 — Immobilier d'entreprise en QPV" in text
    hrefs = {a.get("href") for a in tree.iter("a")}
    base = me_url(demo_event, registration)
    for suffix in ("/modifier", "/ateliers", "/donnees.json", "/annuler", "/effacer"):
        assert base + suffix in hrefs
    assert f"/e/{demo_event.slug}/agenda.ics?s={a1}%2C{a5}" in hrefs or f"/e/{demo_event.slug}/agenda.ics?s={a1},{a5}" in hrefs


def test_me_is_private_revalidated_and_never_indexed(client, demo_event):
    registration = registered(client, demo_event)

    response = client.get(me_url(demo_event, registration))

    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "noindex" in response.headers["X-Robots-Tag"]
    for suffix in ("/modifier", "/ateliers", "/donnees.json", "/annuler", "/effacer"):
        other = client.get(me_url(demo_event, registration, suffix))
        assert other.headers["Referrer-Policy"] == "no-referrer", suffix
        assert "no-store" in other.headers["Cache-Control"], suffix


def test_me_shows_the_waiting_list_position(client, demo_event):
    a1 = code_of(demo_event, "Atelier 1")
    session = db.session.scalar(db.select(Session).filter_by(event_id=demo_event.id, code=a1))
    session.capacity = 1
    db.session.commit()
    registered(client, demo_event, email="one@example.org", workshops=[a1])
    registered(client, demo_event, email="two@example.org", workshops=[a1])
    third = registered(client, demo_event, email="three@example.org", workshops=[a1])

    text = text_of(client.get(me_url(demo_event, third)))

    assert "liste d'attente, position 2" in text


def test_me_pending_registration_waits_for_validation_without_a_badge(client, demo_event):
    demo_event.approval_required = True
    db.session.commit()
    registration = registered(client, demo_event)

    response = client.get(me_url(demo_event, registration))

    assert "En attente de validation" in text_of(response)
    assert not page_of(response).xpath("//div[contains(@class, 'badge-qr')]")


def test_me_wrong_token_is_the_same_404_as_a_random_one(client, demo_event):
    registration = registered(client, demo_event)
    token = registration.access_token
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")

    pages = {
        path: client.get(path)
        for path in (f"/e/{demo_event.slug}/me/{altered}", f"/e/{demo_event.slug}/me/not-a-real-token-at-all",
                     f"/e/{demo_event.slug}/me/x")
    }

    assert {response.status_code for response in pages.values()} == {404}
    # word for word the same page (the language links repeat the address asked for)
    bodies = {response.get_data(as_text=True).replace(path, "PATH") for path, response in pages.items()}
    assert len(bodies) == 1
    assert "Ce lien personnel n'est pas valide" in text_of(pages[f"/e/{demo_event.slug}/me/x"])
    altered_page = pages[f"/e/{demo_event.slug}/me/{altered}"]
    assert "Camille" not in altered_page.get_data(as_text=True)
    assert altered_page.headers["Referrer-Policy"] == "no-referrer"
    for suffix in ("/modifier", "/ateliers", "/donnees.json", "/annuler", "/effacer"):
        assert client.get(f"/e/{demo_event.slug}/me/{altered}{suffix}").status_code == 404


def test_me_token_of_another_event_is_404(client, demo_event):
    registration = registered(client, demo_event)
    other = Event(slug="autre", title="Autre forum", start_date=demo_event.start_date, end_date=demo_event.end_date)
    db.session.add(other)
    db.session.commit()

    assert client.get(f"/e/autre/me/{registration.access_token}").status_code == 404


def test_edit_details_changes_them_and_keeps_the_email(client, demo_event):
    registration = registered(client, demo_event)
    form = client.get(me_url(demo_event, registration, "/modifier"))
    assert page_of(form).get_element_by_id("first_name").get("value") == "Camille"

    response = client.post(me_url(demo_event, registration, "/modifier"), data=form_data(
        first_name="Camille-Anne", organisation="Rennes Métropole", category="elu", email="ignored@example.org",
    ))

    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "Vos informations ont été enregistrées." in text_of(page)
    assert "Camille-Anne Durand" in text_of(page)
    assert "Rennes Métropole" in text_of(page)
    db.session.refresh(registration)
    assert registration.email == "camille.durand@example.org"
    assert registration.category == "elu"


def test_edit_details_errors_keep_what_was_typed(client, demo_event):
    registration = registered(client, demo_event)

    response = client.post(me_url(demo_event, registration, "/modifier"),
                           data=form_data(first_name="", organisation="Nouvelle organisation"))

    assert response.status_code == 422
    tree = page_of(response)
    assert "Ce champ est obligatoire." in tree.get_element_by_id("first_name-error").text_content()
    assert tree.get_element_by_id("organisation").get("value") == "Nouvelle organisation"


def test_change_workshops_replaces_them(client, demo_event):
    a1, a2, a5 = (code_of(demo_event, f"Atelier {n}") for n in (1, 2, 5))
    registration = registered(client, demo_event, workshops=[a1])
    page = page_of(client.get(me_url(demo_event, registration, "/ateliers")))
    assert page.get_element_by_id(f"workshop-{a1}").get("checked") is not None

    response = client.post(me_url(demo_event, registration, "/ateliers"), data={"workshops": [a2, a5]})

    assert response.status_code == 303
    db.session.refresh(registration)
    assert sorted(seat.session.code for seat in registration.seats) == sorted([a2, a5])
    assert "Vos ateliers ont été enregistrés." in text_of(client.get(response.headers["Location"]))


def test_change_workshops_refuses_overlaps_and_keeps_the_choice(client, demo_event):
    a1, a2 = code_of(demo_event, "Atelier 1"), code_of(demo_event, "Atelier 2")
    registration = registered(client, demo_event, workshops=[a1])

    response = client.post(me_url(demo_event, registration, "/ateliers"), data={"workshops": [a1, a2]})

    assert response.status_code == 422
    tree = page_of(response)
    assert "en même temps" in tree.get_element_by_id("workshops-error").text_content()
    assert tree.get_element_by_id(f"workshop-{a2}").get("checked") is not None
    db.session.refresh(registration)
    assert [seat.session.code for seat in registration.seats] == [a1]


def test_download_data_is_a_json_attachment_with_the_person_s_data(client, demo_event):
    a1 = code_of(demo_event, "Atelier 1")
    registration = registered(client, demo_event, first_name="Élodie", workshops=[a1])

    response = client.get(me_url(demo_event, registration, "/donnees.json"))

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.get_data(as_text=True)
    assert "Élodie" in body  # UTF-8, not \u escapes
    data = json.loads(body)
    flat = json.dumps(data, ensure_ascii=False)
    for value in ("Élodie", "Durand", "camille.durand@example.org", "Ville de Rennes", a1):
        assert value in flat


def test_cancel_asks_then_cancels_and_the_badge_goes(client, demo_event):
    a1 = code_of(demo_event, "Atelier 1")
    registration = registered(client, demo_event, workshops=[a1])

    ask = client.get(me_url(demo_event, registration, "/annuler"))
    assert ask.status_code == 200
    assert page_of(ask).xpath("//form[@method='post']//button[@type='submit']")
    assert registration.status == "confirmed"  # a GET changes nothing

    response = client.post(me_url(demo_event, registration, "/annuler"))

    assert response.status_code == 303
    db.session.refresh(registration)
    assert registration.status == "cancelled"
    page = client.get(response.headers["Location"])
    assert "Inscription annulée" in text_of(page)
    assert not page_of(page).xpath("//div[contains(@class, 'badge-qr')]")


def test_erase_warns_then_anonymises_and_the_link_stops_working(client, demo_event):
    registration = registered(client, demo_event, first_name="Ninon")
    url = me_url(demo_event, registration)

    ask = client.get(url + "/effacer")
    assert "définitif" in text_of(ask)

    response = client.post(url + "/effacer")

    assert response.status_code == 303
    erased = client.get(response.headers["Location"])
    assert "Vos données ont été effacées" in text_of(erased)
    assert page_of(erased).xpath("//*[@data-forget-pages]")
    db.session.expire_all()
    [left] = registrations()
    assert left.first_name != "Ninon"
    assert "camille" not in left.email
    assert left.anonymised_at is not None
    assert client.get(url).status_code == 404



def test_every_public_page_links_to_the_registration_form(client, demo_event):
    for path in (f"/e/{demo_event.slug}/", f"/e/{demo_event.slug}/s/A1"):
        html = client.get(path, headers={"Accept-Encoding": "identity"}).get_data(as_text=True)
        assert f'href="/e/{demo_event.slug}/register"' in html, path
    form = client.get(f"/e/{demo_event.slug}/register").get_data(as_text=True)
    assert f'href="/e/{demo_event.slug}/register" aria-current="page"' in form
