"""The organisers' arrivals dashboard, the audit trail and its corrections, over a made-up morning."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import lxml.html
import pytest

from forum_app.badges import services as badges
from forum_app.checkin import dashboard, services
from forum_app.checkin.models import CheckIn
from forum_app.extensions import db
from forum_app.registration import services as registration
from forum_app.registration.services import RegistrationInput

NOW = "2019-06-06T09:30:00+02:00"  # the morning of the first day, in Paris


def _at(hour: int, minute: int) -> str:
    """A station's scanned_at that morning, Paris time."""
    return datetime(2019, 6, 6, hour - 2, minute, tzinfo=UTC).isoformat()


class Morning:
    """Nine confirmed people (3 categories, 2 delegations) and one cancelled, scanned at three stations."""

    def __init__(self, event, organiser):
        self.event = event
        self.organiser = organiser
        self._ids = iter(range(10**6))
        nord = registration.create_delegation(event, "Délégation Hauts-de-France", territory="Hauts-de-France")
        sud = registration.create_delegation(event, "Délégation Marseille", territory="Provence")
        self.nord, self.sud = nord, sud
        specs = [
            ("Amina", "Benali", "collectivite", nord.id, "", ["A1"]),
            ("Bruno", "Carpentier", "collectivite", nord.id, "", ["A1"]),
            ("Chloé", "Dufour", "collectivite", nord.id, "", ["A2"]),
            ("David", "Eloy", "collectivite", nord.id, "", []),
            ("Élodie", "Fabre", "elu", sud.id, "", ["A1"]),
            ("Farid", "Gaillard", "elu", sud.id, "", []),
            ("Gaëlle", "Hamon", "association", None, "Lyon", []),
            ("Hugo", "Ibarra", "association", None, "", []),
            ("Inès", "Jacob", "association", None, "", []),
            ("Jules", "Klein", "collectivite", None, "", []),
        ]
        inputs = [
            RegistrationInput(
                first_name=first, last_name=last, email=f"{first.lower()}.{last.lower()}@example.org",
                organisation=f"Organisation {last}", category=category, delegation_id=delegation_id,
                territory=territory, workshop_codes=workshops, consent=True,
            )
            for first, last, category, delegation_id, territory, workshops in specs
        ]
        # Registered at the desk in one go, without the welcome mails (they are another feature's).
        self.people = [o.registration for o in registration.register_many(event, inputs, source="desk", notify=False)]
        self.badges = {p.last_name: badges.badge_payload(p) for p in self.people}

    def scan(self, last_name_or_badge: str, hour: int, minute: int, station: str, session: str | None = None):
        badge = self.badges.get(last_name_or_badge, last_name_or_badge)
        return services.check_in(
            self.event, badge=badge, client_id=f"morning-{next(self._ids):06d}", station=station,
            scanned_at=_at(hour, minute), session_code=session, user=self.organiser,
        ).answer

    def play(self):
        p = {person.last_name: person for person in self.people}
        old_eloy = self.badges["Eloy"]
        badges.reissue(p["Eloy"])  # lost badge, reprinted at the desk
        registration.cancel(p["Klein"])

        self.scan("Benali", 8, 41, "porte 1")
        self.scan("Carpentier", 8, 43, "porte 1")
        self.scan("Carpentier", 8, 44, "porte 1")  # scanned twice at the same station
        self.scan("FA:not-a-badge", 8, 50, "porte 2")  # invalid
        self.scan("Dufour", 8, 52, "porte 2")
        self.scan("Benali", 8, 55, "porte 2")  # again, at another station
        self.scan("Fabre", 9, 5, "porte 2")
        self.scan("Fabre", 9, 2, "porte 3")  # an offline station syncing late: this is her arrival
        self.scan("Hamon", 9, 7, "porte 1")
        wrong = self.scan("Gaillard", 9, 8, "porte 1")  # wrong person scanned: undone below
        self.scan(old_eloy, 9, 10, "porte 1")  # revoked
        self.scan("Klein", 9, 11, "porte 2")  # cancelled
        self.scan("Benali", 9, 20, "atelier", session="A1")
        self.scan("Carpentier", 9, 21, "atelier", session="A1")
        self.scan("Dufour", 9, 22, "atelier", session="A1")  # not_signed_up (her seat is in A2)
        services.undo_check_in(self.event, wrong["checkin_id"], self.organiser)
        return self


@pytest.fixture
def organiser(make_user, demo_event):
    return make_user("organiser", demo_event)


@pytest.fixture
def morning(app, demo_event, organiser):
    app.config["FORUM_NOW"] = NOW
    return Morning(demo_event, organiser).play()


@pytest.fixture
def as_organiser(client, login, organiser):
    login(organiser)
    return client


def _page(response) -> lxml.html.HtmlElement:
    assert response.status_code == 200, response.status_code
    return lxml.html.fromstring(response.get_data(as_text=True))


def _by_id(doc, element_id: str) -> str:
    return " ".join(doc.get_element_by_id(element_id).text_content().split())


def _table(doc, element_id: str) -> list[list[str]]:
    table = doc.get_element_by_id(element_id)
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")]
        for row in table.xpath("./tbody/tr")
    ]


# --- the figures ---


def test_dashboard_figures_of_the_morning(morning, demo_event):
    data = dashboard.build(demo_event)

    assert (data.registered, data.arrived, data.expected) == (9, 5, 4)
    assert (data.duplicates, data.duplicates_elsewhere) == (3, 2)  # Carpentier at porte 1; Benali and Fabre elsewhere
    assert dict(data.refusals) == {"invalid": 1, "revoked": 1, "cancelled": 1, "not_signed_up": 1}
    assert data.clock_suspect == 0


def test_chart_counts_the_reconciled_arrivals_per_ten_minutes(morning, demo_event):
    data = dashboard.build(demo_event)

    counts = [(b.start.strftime("%H:%M"), b.count) for b in data.buckets]
    # Fabre counts at 9 h 02 (the offline station's scan), Gaillard's undone arrival not at all;
    # the chart runs to now (9 h 30).
    assert counts == [("08:40", 2), ("08:50", 1), ("09:00", 2), ("09:10", 0), ("09:20", 0), ("09:30", 0)]


def test_breakdowns_by_category_delegation_and_territory(morning, demo_event):
    data = dashboard.build(demo_event)

    assert [(r.key, r.registered, r.arrived, r.percent) for r in data.by_category] == [
        ("collectivite", 4, 3, 75), ("association", 3, 1, 33), ("elu", 2, 1, 50),
    ]
    assert [(r.label, r.registered, r.arrived) for r in data.by_delegation] == [
        ("Délégation Hauts-de-France", 4, 3), ("Délégation Marseille", 2, 1), ("", 3, 1),
    ]
    # A delegation's territory stands for its members who gave none; people who gave none go last.
    assert [(r.label, r.registered, r.arrived) for r in data.by_territory] == [
        ("Hauts-de-France", 4, 3), ("Provence", 2, 1), ("Lyon", 1, 1), ("", 2, 0),
    ]


def test_session_attendance_against_seats(morning, demo_event):
    data = dashboard.build(demo_event)

    rows = {a.session.code: (a.capacity, a.confirmed, a.scanned) for a in data.sessions}
    assert rows["A1"] == (60, 3, 2)  # Dufour's refused scan at the A1 door does not count
    assert rows["A2"] == (60, 1, 0)


def test_dashboard_page_shows_the_figures_in_french(morning, as_organiser, demo_event):
    doc = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/arrivals"))

    assert _by_id(doc, "figure-registered") == "9"
    assert _by_id(doc, "figure-arrived") == "5"
    assert _by_id(doc, "figure-expected") == "4"
    assert _by_id(doc, "figure-duplicates") == "3 doublons"
    assert _by_id(doc, "figure-refused") == "4 scans refusés"
    assert _table(doc, "by-category")[0] == ["Collectivité", "4", "3", "75 %"]
    assert _table(doc, "by-delegation")[-1] == ["Sans délégation", "3", "1", "33 %"]
    assert ["Ancien badge (réédité depuis)", "1"] in _table(doc, "refusals")
    assert _table(doc, "session-attendance")[0][0].startswith("A1")
    chart = doc.xpath("//svg[@class='chart-svg']")[0]
    assert chart.get("role") == "img"
    assert "de 8 h 40 à 9 h 40 : 5 arrivées" in chart.get("aria-label")
    assert "9 h 00" in [t.text for t in chart.iter("text")]
    live = doc.xpath("//*[@data-live-url]")[0]
    assert live.get("data-live-url") == f"/e/{demo_event.slug}/admin/arrivals/live"
    assert live.get("data-live-etag").startswith('W/"')


def test_dashboard_of_a_forum_without_arrivals_says_so(as_organiser, demo_event):
    doc = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/arrivals"))

    assert _by_id(doc, "figure-arrived") == "0"
    assert "Aucune arrivée pour l'instant" in doc.text_content()
    assert not doc.xpath("//svg")


# --- no-shows ---


def test_no_shows_list_confirmed_people_not_arrived_with_a_contact_link(morning, as_organiser, demo_event):
    doc = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/arrivals"))

    rows = _table(doc, "no-shows")
    assert [row[0].split(" ")[0] for row in rows] == ["Eloy", "Gaillard", "Ibarra", "Jacob"]  # Klein: cancelled
    assert rows[1][2] == "Délégation Marseille"
    links = doc.get_element_by_id("no-shows").xpath(".//a")
    assert "mailto:farid.gaillard@example.org" in [a.get("href") for a in links]
    gaillard = next(p for p in morning.people if p.last_name == "Gaillard")
    assert f"/e/{demo_event.slug}/admin/registrations/{gaillard.id}" in [a.get("href") for a in links]


def test_no_shows_filter_by_category_delegation_and_name(morning, as_organiser, demo_event):
    base = f"/e/{demo_event.slug}/admin/arrivals"

    by_category = _table(_page(as_organiser.get(base + "?category=elu")), "no-shows")
    by_delegation = _table(_page(as_organiser.get(f"{base}?delegation={morning.nord.id}")), "no-shows")
    by_name = _page(as_organiser.get(base + "?q=ines"))  # accents and case ignored
    live = _page(as_organiser.get(base + "/live?delegation=aucune"))

    assert [r[0].split(" ")[0] for r in by_category] == ["Gaillard"]
    assert [r[0].split(" ")[0] for r in by_delegation] == ["Eloy"]
    assert [r[0].split(" ")[0] for r in _table(by_name, "no-shows")] == ["Jacob"]
    assert _by_id(by_name, "no-show-count") == "1 personne attendue correspond au filtre."
    assert [r[0].split(" ")[0] for r in _table(live, "no-shows")] == ["Ibarra", "Jacob"]


# --- live refresh ---


def test_live_fragment_answers_304_until_something_changes(morning, as_organiser, demo_event):
    url = f"/e/{demo_event.slug}/admin/arrivals/live"
    first = as_organiser.get(url)
    etag = first.headers["ETag"]

    same = as_organiser.get(url, headers={"If-None-Match": etag})
    morning.scan("Ibarra", 9, 25, "porte 1")
    changed = as_organiser.get(url, headers={"If-None-Match": etag})

    assert first.status_code == 200 and etag.startswith('W/"')
    assert "<html" not in first.get_data(as_text=True)  # a fragment, not a page
    assert 'data-live-part="top"' in first.get_data(as_text=True)
    assert same.status_code == 304 and same.get_data() == b""
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert _by_id(lxml.html.fromstring(changed.get_data(as_text=True)), "figure-arrived") == "6"


def test_live_fragment_changes_when_an_arrival_is_undone(morning, as_organiser, demo_event):
    url = f"/e/{demo_event.slug}/admin/arrivals/live"
    etag = as_organiser.get(url).headers["ETag"]
    arrival = db.session.scalar(db.select(CheckIn).filter_by(outcome="checked_in", station="porte 1").order_by(CheckIn.id))

    services.undo_check_in(demo_event, arrival.id, morning.organiser)
    response = as_organiser.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert _by_id(lxml.html.fromstring(response.get_data(as_text=True)), "figure-arrived") == "4"


def test_live_fragment_etag_depends_on_the_filters(morning, as_organiser, demo_event):
    url = f"/e/{demo_event.slug}/admin/arrivals/live"
    etag = as_organiser.get(url).headers["ETag"]

    filtered = as_organiser.get(url + "?category=elu", headers={"If-None-Match": etag})

    assert filtered.status_code == 200


# --- the audit trail ---


def test_audit_trail_lists_every_scan_newest_first_with_its_details(morning, as_organiser, demo_event):
    doc = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/checkins"))

    rows = _table(doc, "audit")
    assert len(rows) == 15
    assert _by_id(doc, "audit-count") == "15 passages."
    text = [" | ".join(row) for row in rows]
    assert any("Badge invalide" in row and "Badge sans personne connue" in row for row in text)
    undone = next(row for row in text if "Gaillard" in row)
    assert "annulée" in undone and "Annulée par organiser" in undone
    a1 = next(row for row in text if "Sans place à l'atelier" in row)
    assert "Chloé Dufour" in a1 and "A1" in a1


def test_audit_trail_filters_by_outcome_door_station_and_person(morning, as_organiser, demo_event):
    base = f"/e/{demo_event.slug}/admin/checkins"

    duplicates = _table(_page(as_organiser.get(base + "?outcome=already_checked_in")), "audit")
    at_a1 = _table(_page(as_organiser.get(base + "?door=A1")), "audit")
    entrance = _table(_page(as_organiser.get(base + "?door=entree&station=PORTE 3")), "audit")
    benali = _table(_page(as_organiser.get(base + "?q=benali")), "audit")
    undone = _table(_page(as_organiser.get(base + "?outcome=annule")), "audit")

    assert len(duplicates) == 3
    assert len(at_a1) == 3
    assert len(entrance) == 1 and "Élodie Fabre" in entrance[0][2]
    assert len(benali) == 3
    assert len(undone) == 1 and "Farid Gaillard" in undone[0][2]


def test_audit_trail_shows_fifty_then_more(app, demo_event, organiser, as_organiser):
    app.config["FORUM_NOW"] = NOW
    for n in range(60):
        services.check_in(demo_event, badge=f"junk-{n}", client_id=f"junk-scan-{n:04d}", station="porte 1",
                          scanned_at=_at(9, 0))
    base = f"/e/{demo_event.slug}/admin/checkins"

    first = _page(as_organiser.get(base))
    more_link = first.xpath("//a[normalize-space()='Voir plus']")[0].get("href")
    more = _page(as_organiser.get(more_link))

    assert len(_table(first, "audit")) == 50
    assert "limit=100" in more_link
    assert len(_table(more, "audit")) == 60 and not more.xpath("//a[normalize-space()='Voir plus']")


def test_audit_trail_rows_link_to_the_desk_page_that_reissues_the_badge(morning, as_organiser, demo_event):
    doc = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/checkins?q=benali"))
    benali = next(p for p in morning.people if p.last_name == "Benali")

    link = doc.xpath("//a[starts-with(normalize-space(), 'Fiche et badge')]")[0].get("href")
    detail = _page(as_organiser.get(link))

    assert link == f"/e/{demo_event.slug}/admin/registrations/{benali.id}"
    assert detail.xpath("//button[normalize-space()='Refaire le badge']")


# --- corrections ---


def _undo(client, event, checkin_id: int, back: str = ""):
    return client.post(f"/e/{event.slug}/admin/checkins/{checkin_id}/undo", data={"back": back})


def test_undo_takes_an_arrival_back_and_keeps_it_in_the_trail(morning, as_organiser, demo_event):
    hamon = db.session.scalar(
        db.select(CheckIn).filter_by(station="porte 1", outcome="checked_in", undone_at=None).order_by(CheckIn.id.desc())
    )

    response = _undo(as_organiser, demo_event, hamon.id, back="outcome=checked_in&evil=1")
    page = as_organiser.get(response.headers["Location"])

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/e/{demo_event.slug}/admin/checkins"
    assert urlsplit(response.headers["Location"]).query == "outcome=checked_in"
    assert "Entrée de Gaëlle Hamon annulée" in page.get_data(as_text=True)
    db.session.expire_all()
    row = db.session.get(CheckIn, hamon.id)
    assert row.undone_at is not None and row.undone_by_id == morning.organiser.id
    assert dashboard.build(demo_event).arrived == 4


def test_undo_replayed_changes_nothing_and_says_so(morning, as_organiser, demo_event):
    row = db.session.scalar(db.select(CheckIn).filter_by(outcome="checked_in").order_by(CheckIn.id))
    _undo(as_organiser, demo_event, row.id)
    db.session.expire_all()
    first_undone_at = db.session.get(CheckIn, row.id).undone_at

    again = _undo(as_organiser, demo_event, row.id)
    page = as_organiser.get(again.headers["Location"]).get_data(as_text=True)

    assert again.status_code == 302
    assert "était déjà annulée : rien n&#39;a changé" in page
    db.session.expire_all()
    assert db.session.get(CheckIn, row.id).undone_at == first_undone_at


def test_undo_of_a_refused_scan_or_an_unknown_one_is_a_clear_message(morning, as_organiser, demo_event):
    refused = db.session.scalar(db.select(CheckIn).filter_by(outcome="invalid"))

    refused_answer = _undo(as_organiser, demo_event, refused.id)
    refused_page = as_organiser.get(refused_answer.headers["Location"]).get_data(as_text=True)
    unknown_answer = _undo(as_organiser, demo_event, 999_999)
    unknown_page = as_organiser.get(unknown_answer.headers["Location"]).get_data(as_text=True)

    assert refused_answer.status_code == 302 and unknown_answer.status_code == 302
    assert "Ce passage a été refusé à la porte : il n&#39;y a pas d&#39;entrée à annuler." in refused_page
    assert "Ce passage n&#39;existe pas (ou plus)" in unknown_page
    db.session.expire_all()
    assert db.session.get(CheckIn, refused.id).undone_at is None


def test_undo_of_another_events_scan_is_not_found(morning, as_organiser, demo_event):
    from datetime import date

    from forum_app.programme.models import Event

    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2019, 6, 6), end_date=date(2019, 6, 6))
    db.session.add(other)
    db.session.commit()
    row = db.session.scalar(db.select(CheckIn).filter_by(outcome="checked_in"))

    answer = _undo(as_organiser, other, row.id)

    assert answer.status_code == 403  # not an organiser there
    db.session.expire_all()
    assert db.session.get(CheckIn, row.id).undone_at is None


def test_undone_arrival_scanned_again_checks_in_again(morning, as_organiser, demo_event):
    gaillard = morning.scan("Gaillard", 9, 25, "porte 1")

    assert gaillard["outcome"] == "checked_in"
    assert dashboard.build(demo_event).arrived == 6


# --- the desk reprint ---


def test_desk_reissue_revokes_the_old_badge_at_the_door(morning, as_organiser, demo_event):
    ibarra = next(p for p in morning.people if p.last_name == "Ibarra")
    old = morning.badges["Ibarra"]
    detail = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/registrations/{ibarra.id}"))
    form = detail.xpath("//form[.//button[normalize-space()='Refaire le badge']]")[0]

    response = as_organiser.post(form.get("action"), data={"next": form.xpath(".//input[@name='next']")[0].get("value")})

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/e/{demo_event.slug}/admin/registrations/{ibarra.id}"
    db.session.expire_all()
    assert morning.scan(old, 9, 26, "porte 1")["outcome"] == "revoked"
    assert morning.scan(badges.badge_payload(db.session.get(type(ibarra), ibarra.id)), 9, 27, "porte 1")["outcome"] == "checked_in"
    pdf = as_organiser.get(f"/e/{demo_event.slug}/admin/registrations/{ibarra.id}/badge.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


# --- who may see it ---


ROUTES = [
    ("GET", "/admin/arrivals"),
    ("GET", "/admin/arrivals/live"),
    ("GET", "/admin/checkins"),
    ("POST", "/admin/checkins/1/undo"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_volunteers_are_refused_and_visitors_sent_to_log_in(app, demo_event, make_user, method, path):
    volunteer = make_user("volunteer", demo_event)
    url = f"/e/{demo_event.slug}{path}"

    anonymous = app.test_client().open(url, method=method)
    client = app.test_client()
    client.post("/login", data={"email": volunteer.email, "password": "correct-horse-battery"})
    refused = client.open(url, method=method)

    assert anonymous.status_code == 302 and urlsplit(anonymous.headers["Location"]).path == "/login"
    assert refused.status_code == 403


def test_organisers_menu_links_to_the_arrivals(as_organiser, demo_event):
    doc = _page(as_organiser.get(f"/e/{demo_event.slug}/admin/checkins"))

    current = doc.xpath("//nav[@class='admin-nav']//a[@aria-current='page']")
    assert [a.text_content() for a in current] == ["Arrivées"]
    assert re.search(r"/admin/arrivals$", current[0].get("href"))
