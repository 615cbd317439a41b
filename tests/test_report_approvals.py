"""Quote consent through the pages: an organiser sends the person quoted a private link; the person
approves, amends or refuses without an account; the publication follows their answer."""
from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from forum_app import create_app, mail
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.notes import services as notes_services
from forum_app.notes.models import NoteItem
from forum_app.programme.models import Event, Session
from forum_app.registration.models import Registration
from forum_app.report import approvals, domain, services
from forum_app.report.models import QuoteApproval

CAPTURED = datetime(2019, 6, 6, 9, 40, tzinfo=UTC)
WORDS = "Le foncier d'activité manque dans les quartiers : il faut <b>oser</b> la mixité."
LINK = re.compile(r"https?://[^\s\"<>]+/report/quote/([A-Za-z0-9_-]{20,})")


# --- helpers ---------------------------------------------------------------------------------------


def _session(event, code) -> Session:
    return db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))


def _quote(event, author, *, code="A1", text=WORDS, name="Élise Martin", job="Directrice du développement",
           organisation="Rennes Métropole") -> int:
    attribution = {"name": name, "job_title": job, "organisation": organisation} if name else None
    body = {"client_id": uuid.uuid4().hex, "kind": "quote", "text": text, "captured_at": CAPTURED.isoformat(),
            "attribution": attribution}
    return notes_services.add_item(event, _session(event, code), author, body).item["id"]


def _edit_note(event, author, note_id, text):
    version = db.session.get(NoteItem, note_id).version
    notes_services.edit_item(event, note_id, author, {"version": version, "text": text})


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def _admin_url(event) -> str:
    return f"/e/{event.slug}/admin/report/quotes"


def _send(client, event, note_id, email="elise.martin@example.org"):
    return client.post(_admin_url(event), data={"action": "send", "note_id": str(note_id), "email": email})


def _last_link(app) -> str:
    """The path of the newest consent link in the memory outbox."""
    for message in reversed(mail.memory_outbox(app)):
        found = LINK.search(_plain(message))
        if found:
            return urlsplit(found.group(0)).path
    raise AssertionError("no consent link was emailed")


def _shown(page) -> str:
    return re.search(r'name="shown" value="([0-9a-f]+)"', page.get_data(as_text=True)).group(1)


def _answer(person, link, action, **fields):
    page = person.get(link)
    return person.post(link, data={"action": action, "shown": _shown(page), **fields})


def _published(event) -> dict[int, domain.Item]:
    db.session.expire_all()
    document = services.build_document(event, publishing=True)
    return {item.id: item for section in document.sections for item in section.items if item.kind == "quote"}


def _approval(note_id) -> QuoteApproval:
    db.session.expire_all()
    return db.session.scalar(db.select(QuoteApproval).filter_by(note_item_id=note_id))


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def organiser(demo_event, make_user):
    return make_user("organiser", demo_event)


@pytest.fixture
def as_organiser(client, login, organiser):
    login(organiser)
    return client


@pytest.fixture
def person(app):
    """The person quoted: no account, their own browser."""
    return app.test_client()


@pytest.fixture
def quote_id(demo_event, organiser):
    return _quote(demo_event, organiser)


@pytest.fixture
def link(app, as_organiser, demo_event, quote_id):
    """A consent request sent through the organisers' page: the path of the emailed link."""
    response = _send(as_organiser, demo_event, quote_id)
    assert response.status_code == 303
    return _last_link(app)


# --- asking ----------------------------------------------------------------------------------------


def test_request_emails_the_person_a_private_link_with_the_quote_in_french(app, as_organiser, demo_event, quote_id, organiser):
    response = _send(as_organiser, demo_event, quote_id, "Elise.Martin@Example.org")

    assert response.status_code == 303
    sent = [m for m in mail.memory_outbox(app) if "elise.martin@" in str(m["To"]).lower()]
    assert len(sent) == 1
    body = _plain(sent[0])
    assert "Élise Martin" in str(sent[0]["To"])
    assert str(sent[0]["Reply-To"]) == organiser.email  # a question goes to the organiser who asked
    assert WORDS in body  # the words as the report shows them (markup as typed, plain text)
    assert "Élise Martin, Directrice du développement, Rennes Métropole" in body
    assert "Atelier 1" in body and demo_event.title in sent[0]["Subject"]
    assert "J'approuve" in body and "Je propose une autre formulation" in body and "Je refuse" in body
    assert "Sans réponse de votre part, la citation ne sera pas publiée avec votre nom" in body
    expected = (datetime.now(UTC) + timedelta(days=30)).astimezone().year
    assert str(expected) in body  # the deadline, a date in French
    assert LINK.search(body)


def test_link_page_shows_the_quote_as_it_will_be_published(person, link):
    response = person.get(link)

    assert response.status_code == 200
    text = _text(response)
    assert WORDS in text  # escaped, shown as typed
    assert "<b>oser</b>" not in response.get_data(as_text=True)
    assert "Élise Martin, Directrice du développement, Rennes Métropole" in text
    assert "Atelier 1" in text
    assert "J'approuve cette citation" in text and "Je propose une autre formulation" in text and "Je refuse" in text
    assert 'name="csrf_token"' in response.get_data(as_text=True)


def test_link_page_is_never_referred_cached_or_indexed(person, link):
    response = person.get(link)

    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_request_is_refused_for_a_bad_email_or_an_unnamed_quote(as_organiser, demo_event, organiser, quote_id):
    unnamed = _quote(demo_event, organiser, name="", job="", organisation="")

    bad_email = _send(as_organiser, demo_event, quote_id, "pas-une-adresse")
    no_name = _send(as_organiser, demo_event, unnamed)

    assert bad_email.status_code == 422
    assert "Adresse e-mail invalide" in _text(bad_email)
    assert no_name.status_code == 422
    assert "attribuée à personne" in _text(no_name)
    assert _approval(quote_id) is None and _approval(unnamed) is None


def test_another_events_note_cannot_be_sent(as_organiser, demo_event, other_event_quote):
    response = _send(as_organiser, demo_event, other_event_quote)

    assert response.status_code == 404
    assert _approval(other_event_quote) is None


# --- answering -------------------------------------------------------------------------------------


def test_approved_quote_is_published_with_its_words(app, person, link, demo_event, quote_id, organiser):
    response = _answer(person, link, "approve")

    assert response.status_code == 303
    published = _published(demo_event)[quote_id]
    assert published.text == WORDS
    assert published.attribution == "Élise Martin, Directrice du développement, Rennes Métropole"
    told = [m for m in mail.memory_outbox(app) if organiser.email in str(m["To"])]
    assert len(told) == 1 and "approuvée" in str(told[0]["Subject"])


def test_confirmation_page_address_holds_no_secret(person, link):
    secret = link.rsplit("/", 1)[1]

    response = _answer(person, link, "approve")
    confirmation = person.get(response.headers["Location"])

    assert secret not in response.headers["Location"]
    assert urlsplit(response.headers["Location"]).path.endswith("/report/quote/merci")
    assert confirmation.status_code == 200
    assert "Merci, votre réponse est enregistrée" in _text(confirmation)
    assert WORDS in _text(confirmation)
    assert secret not in confirmation.get_data(as_text=True)
    assert confirmation.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in confirmation.headers["Cache-Control"]


def test_amended_words_and_job_title_are_published(person, link, demo_event, quote_id):
    response = _answer(person, link, "amend", text="Il faut oser la mixité des fonctions dans les quartiers.",
                       job_title="Vice-présidente", organisation="Rennes Métropole", comment="Merci !")

    assert response.status_code == 303
    published = _published(demo_event)[quote_id]
    assert published.text == "Il faut oser la mixité des fonctions dans les quartiers."
    assert published.attribution == "Élise Martin, Vice-présidente, Rennes Métropole"
    assert _approval(quote_id).comment == "Merci !"


def test_refused_quote_is_dropped(person, link, demo_event, quote_id):
    response = _answer(person, link, "refuse", comment="Je préfère ne pas être citée.")

    assert response.status_code == 303
    assert quote_id not in _published(demo_event)
    assert _approval(quote_id).state == domain.REFUSED


def test_refused_quote_is_anonymised_when_the_report_says_so(person, link, demo_event, quote_id):
    report = services.get_report(demo_event)
    report.refused_quotes = domain.REFUSED_ANONYMISE
    db.session.commit()

    _answer(person, link, "refuse")

    published = _published(demo_event)[quote_id]
    assert published.attribution == "Participant·e"
    assert "Élise" not in published.attribution


def test_unanswered_quote_is_left_out_of_the_publication(link, demo_event, quote_id, organiser):
    never_asked = _quote(demo_event, organiser, text="Une autre phrase.", name="Jean Dupont")

    published = _published(demo_event)

    assert quote_id not in published and never_asked not in published


def test_unnamed_quote_is_published_as_participant_without_consent(demo_event, organiser):
    unnamed = _quote(demo_event, organiser, name="", job="", organisation="", text="Une voix de la salle.")

    assert _published(demo_event)[unnamed].attribution == "Participant·e"


def test_person_may_change_their_answer_while_the_link_lasts(person, link, demo_event, quote_id):
    _answer(person, link, "approve")

    again = person.get(link)
    response = _answer(person, link, "refuse")

    assert again.status_code == 200 and "vous avez approuvé" in _text(again)
    assert response.status_code == 303
    assert quote_id not in _published(demo_event)


def test_quote_changed_after_approval_is_left_out_until_asked_again(app, person, link, as_organiser, demo_event, quote_id, organiser):
    _answer(person, link, "approve")
    _edit_note(demo_event, organiser, quote_id, "Le foncier manque : osons la mixité.")

    left_out = _published(demo_event)
    admin = as_organiser.get(_admin_url(demo_event))
    _send(as_organiser, demo_event, quote_id)
    _answer(person, _last_link(app), "approve")

    assert quote_id not in left_out
    assert "Modifiée depuis la demande : accord à redemander" in _text(admin)
    assert _published(demo_event)[quote_id].text == "Le foncier manque : osons la mixité."


def test_link_page_shows_new_words_when_the_quote_changed_and_the_answer_applies_to_them(person, link, demo_event, quote_id, organiser):
    _edit_note(demo_event, organiser, quote_id, "Osons la mixité des fonctions.")

    page = person.get(link)
    response = _answer(person, link, "approve")

    assert "La citation a été modifiée depuis notre demande" in _text(page)
    assert "Osons la mixité des fonctions." in _text(page)
    assert response.status_code == 303
    assert _published(demo_event)[quote_id].text == "Osons la mixité des fonctions."
    assert _approval(quote_id).text_sent == "Osons la mixité des fonctions."


def test_answer_posted_after_the_words_changed_is_not_recorded(person, link, demo_event, quote_id, organiser):
    shown = _shown(person.get(link))
    _edit_note(demo_event, organiser, quote_id, "Une formulation revue par l'équipe.")

    response = person.post(link, data={"action": "approve", "shown": shown})

    assert response.status_code == 409
    assert "La citation a été modifiée pendant que vous répondiez" in _text(response)
    assert "Une formulation revue par l'équipe." in _text(response)
    assert _approval(quote_id).state == domain.APPROVAL_SENT


@pytest.mark.parametrize(("text", "message"), [
    ("   ", "Écrivez la formulation que vous proposez."),
    ("x" * 5001, "Votre formulation compte 5001 caractères, 5000 au maximum"),
], ids=["empty", "huge"])
def test_amended_text_empty_or_too_long_gets_a_clear_message_and_nothing_is_saved(person, link, quote_id, text, message):
    response = _answer(person, link, "amend", text=text, job_title="", organisation="")

    assert response.status_code == 422
    assert message in _text(response)
    if text.strip():
        assert text in response.get_data(as_text=True)  # given back whole, to be shortened
    approval = _approval(quote_id)
    assert approval.state == domain.APPROVAL_SENT and approval.final_text == "" and approval.answered_at is None


# --- links that do not open anything ---------------------------------------------------------------


def test_resend_kills_the_old_link(app, as_organiser, person, link, demo_event, quote_id):
    _send(as_organiser, demo_event, quote_id)
    new_link = _last_link(app)

    old = person.get(link)
    answer_on_old = person.post(link, data={"action": "approve"})

    assert new_link != link
    assert old.status_code == 404 and answer_on_old.status_code == 404
    assert person.get(new_link).status_code == 200
    assert _approval(quote_id).state == domain.APPROVAL_SENT


def test_expired_link_is_a_french_404(app, person, link):
    app.config["FORUM_NOW"] = (datetime.now(UTC) + timedelta(days=31)).isoformat()

    response = person.get(link)

    assert response.status_code == 404
    assert "Ce lien n'est pas valable ou a expiré" in _text(response)
    assert "l'équipe d'organisation" in _text(response)
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_tampered_secret_is_a_404(person, link):
    secret = link.rsplit("/", 1)[1]
    tampered = link[: -len(secret)] + secret[:-1] + ("A" if secret[-1] != "A" else "B")

    assert person.get(tampered).status_code == 404
    assert person.get(link[: -len(secret)] + "pas-un-secret").status_code == 404
    assert person.post(tampered, data={"action": "approve"}).status_code == 404


@pytest.fixture
def other_event_quote(app, make_user):
    """A quote of another event (with its own session and organiser)."""
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2019, 9, 1), end_date=date(2019, 9, 1))
    db.session.add(other)
    db.session.flush()
    start = datetime(2019, 9, 1, 8, 0, tzinfo=UTC)
    db.session.add(Session(event_id=other.id, code="T1", title="Table ronde", kind="round-table",
                           starts_at=start, ends_at=start + timedelta(hours=1)))
    db.session.commit()
    return _quote(other, make_user("organiser", other), code="T1", name="Paul Roux")


def test_another_events_secret_is_a_404_under_this_event(person, demo_event, other_event_quote, make_user):
    other = db.session.get(NoteItem, other_event_quote).session.event
    _approval_row, secret = approvals.request_approval(other, other_event_quote, make_user("organiser", other), "paul@example.org")

    assert person.get(f"/e/{demo_event.slug}/report/quote/{secret}").status_code == 404
    assert person.get(f"/e/{other.slug}/report/quote/{secret}").status_code == 200


def test_confirmation_page_without_an_answer_is_a_404(person, demo_event):
    assert person.get(f"/e/{demo_event.slug}/report/quote/merci").status_code == 404


class LimitedConfig(TestConfig):
    RATELIMIT_ENABLED = True


def test_bad_links_are_rate_limited():
    app = create_app(LimitedConfig)
    with app.app_context():
        db.create_all()
        try:
            event = Event(slug="forum", title="Forum", start_date=date(2019, 6, 6), end_date=date(2019, 6, 6))
            db.session.add(event)
            db.session.commit()
            client = app.test_client()
            answers = [client.get(f"/e/forum/report/quote/{'x' * 43}{n}").status_code for n in range(10)]

            blocked = client.get(f"/e/forum/report/quote/{'y' * 43}")

            assert answers == [404] * 10
            assert blocked.status_code == 429
            assert "Trop de tentatives" in _text(blocked)
            assert blocked.headers["Referrer-Policy"] == "no-referrer"
        finally:
            db.session.remove()
            db.drop_all()


# --- the organisers' page --------------------------------------------------------------------------


def test_organiser_records_consent_given_by_phone(as_organiser, demo_event, quote_id, organiser):
    response = as_organiser.post(_admin_url(demo_event), data={
        "action": "record", "note_id": str(quote_id), "state": "approved", "comment": "Au téléphone le 10 juin",
    })

    assert response.status_code == 303
    assert _published(demo_event)[quote_id].text == WORDS
    approval = _approval(quote_id)
    assert approval.recorded_by_id == organiser.id and approval.comment == "Au téléphone le 10 juin"
    page = as_organiser.get(_admin_url(demo_event))
    assert "notée par" in _text(page) and "Au téléphone le 10 juin" in _text(page)


def test_recording_without_a_choice_says_what_is_missing(as_organiser, demo_event, quote_id):
    response = as_organiser.post(_admin_url(demo_event), data={"action": "record", "note_id": str(quote_id)})

    assert response.status_code == 422
    assert "Indiquez si la personne a donné son accord" in _text(response)
    assert _approval(quote_id) is None


def test_admin_page_lists_each_quote_with_its_state_and_the_answer(as_organiser, person, link, demo_event, quote_id, organiser):
    unnamed = _quote(demo_event, organiser, name="", job="", organisation="", text="Une voix de la salle.")
    _answer(person, link, "amend", text="Ma formulation.", job_title="", organisation="", comment="Voici.")

    page = as_organiser.get(_admin_url(demo_event))

    text = _text(page)
    assert page.status_code == 200
    assert "Approuvée avec modifications" in text and "Ma formulation." in text and "Voici." in text
    assert "Une voix de la salle." in text and "Citations sans nom" in text
    assert text.index("Élise Martin") < text.index("Une voix de la salle.")  # named first
    assert re.search(r"1 citation nominative", text) and re.search(r"1 publiable", text)
    assert f'id="quote-{unnamed}"' in page.get_data(as_text=True)


def test_admin_page_suggests_the_email_of_the_one_registration_with_that_name(as_organiser, demo_event, quote_id, organiser):
    def register(first, last, email):
        db.session.add(Registration(event_id=demo_event.id, first_name=first, last_name=last, email=email,
                                    email_key=email.lower(), status="confirmed", access_token=uuid.uuid4().hex))
    register("elise", "MARTIN", "e.martin@rennes.example")
    twin = _quote(demo_event, organiser, name="Jean Dupont", text="Autre chose.")
    register("Jean", "Dupont", "jean1@example.org")
    register("Jean", "Dupont", "jean2@example.org")
    db.session.commit()

    rows = {row.note_id: row for row in approvals.states(demo_event)}
    page = as_organiser.get(_admin_url(demo_event)).get_data(as_text=True)

    assert rows[quote_id].suggested_email == "e.martin@rennes.example"
    assert rows[twin].suggested_email == ""  # two people with that name: no guess
    assert 'value="e.martin@rennes.example"' in page
