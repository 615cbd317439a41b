"""The public programme pages as an attendee's phone sees them (test client, no browser)."""
from __future__ import annotations

import gzip
import re
from datetime import date, datetime, timedelta, timezone
from html import unescape

import pytest
from flask_babel import refresh
from sqlalchemy import event as sa_event

from forum_app.extensions import db
from forum_app.programme.models import Event, Person, Room, Session, SessionPerson, Track

PARIS = timezone(timedelta(hours=2))  # Europe/Paris in June
DURING_WORKSHOPS = "2019-06-06T11:45:00+02:00"


# --- helpers ---


def html_of(response) -> str:
    data = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return data.decode()


def text_of(response) -> str:
    """The page's visible text, tags removed, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html_of(response), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def main_text(response) -> str:
    html = html_of(response)
    main = html[html.index("<main") : html.index("</main>")]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", main)).split())


def card_codes(response) -> list[str]:
    """Codes of the session cards of the programme list, in page order."""
    html = html_of(response)
    listing = html[html.index('<div class="results"') :]
    return re.findall(r'<article class="card session[^"]*" id="s-([^"]+)"', listing)


def code_of(event: Event, title_start: str) -> str:
    return next(s.code for s in event.sessions if s.title.startswith(title_start))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2019, 6, day, hour, minute, tzinfo=PARIS)


def make_event(slug: str = "mini", *, published: bool = True, title: str = "Mini forum") -> Event:
    """A one-day event with two parallel workshops, a lunch and people in every role."""
    event = Event(
        slug=slug, title=title, timezone="Europe/Paris", start_date=date(2019, 6, 6), end_date=date(2019, 6, 6),
        is_published=published,
    )
    room_a, room_b = Room(name="Salle A", position=0), Room(name="Salle B", position=1)
    track = Track(name="Numérique", slug="numerique", colour="#7c3aed")
    event.rooms += [room_a, room_b]
    event.tracks.append(track)
    people = {
        name: Person(name=name, job_title=job, organisation=org)
        for name, job, org in [
            ("Léa Morvan", "Cheffe de projet", "Ville de Brest"),
            ("Karim Benali", "Directeur", "Coopérative Élan"),
            ("Awa Diallo", "Présidente", "Association Horizon"),
            ("Thomas Petit", "Chargé d'études", "ADULM"),
        ]
    }
    event.people += list(people.values())
    w1 = Session(
        code="W1", title="Atelier numérique", kind="workshop", track=track, room=room_a,
        starts_at=at(6, 11, 30), ends_at=at(6, 13), abstract="Premier paragraphe.\n\nSecond paragraphe.",
    )
    for position, (name, role) in enumerate(
        [
            ("Léa Morvan", "speaker"),
            ("Karim Benali", "moderator"),
            ("Awa Diallo", "witness"),
            ("Thomas Petit", "rapporteur"),
        ]
    ):
        w1.people.append(SessionPerson(person=people[name], role=role, position=position))
    w2 = Session(
        code="W2", title="Atelier emploi", kind="workshop", room=room_b, starts_at=at(6, 11, 30), ends_at=at(6, 13)
    )
    lunch = Session(code="L1", title="Déjeuner", kind="lunch", room=room_b, starts_at=at(6, 13), ends_at=at(6, 14))
    event.sessions += [w1, w2, lunch]
    db.session.add(event)
    db.session.commit()
    return event


class QueryCount:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


# --- home ---


def test_home_redirects_to_the_only_published_event(client, demo_event):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/e/{demo_event.slug}/")


def test_home_lists_events_when_several_are_published(client, demo_event):
    make_event("autre", title="Autre forum")
    response = client.get("/")
    assert response.status_code == 200
    assert demo_event.title in text_of(response) and "Autre forum" in text_of(response)


def test_home_says_so_when_no_event_is_published(client, app):
    assert "Aucun événement" in text_of(client.get("/"))


# --- programme: days, slots, cards ---


def test_programme_day_tabs_mark_today_during_the_event(app, client, demo_event):
    app.config["FORUM_NOW"] = "2019-06-07T10:00:00+02:00"
    html = html_of(client.get(f"/e/{demo_event.slug}/"))
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', html)
    assert any("day=2019-06-07" in href for href in current)
    assert "?day=2019-06-06" in html


def test_programme_shows_the_first_day_outside_the_event(app, client, demo_event):
    app.config["FORUM_NOW"] = "2024-01-15T10:00:00+01:00"
    response = client.get(f"/e/{demo_event.slug}/")
    assert code_of(demo_event, "Ouverture") in card_codes(response)
    assert code_of(demo_event, "Club dev") not in card_codes(response)


def test_programme_day_tab_shows_that_day(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/?day=2019-06-07")
    assert card_codes(response) == [code_of(demo_event, "Club dev")]
    assert "Réunion" in main_text(response)


def test_programme_lists_sessions_in_time_order_under_french_time_headings(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/?day=2019-06-06")
    headings = re.findall(r'<h2 class="slot-time"><time datetime="[^"]+">([^<]+)</time>', html_of(response))
    assert headings == ["8 h 45", "9 h 30", "10 h 00", "11 h 30", "13 h 00", "14 h 15", "15 h 30", "16 h 30"]
    first_day = [s for s in demo_event.sessions if s.starts_at.astimezone(PARIS).date() == date(2019, 6, 6)]
    assert len(card_codes(response)) == len(first_day)


def test_programme_groups_parallel_workshops_in_one_slot(client, demo_event):
    html = html_of(client.get(f"/e/{demo_event.slug}/?day=2019-06-06"))
    slot = html[html.index(">11 h 30<") : html.index(">13 h 00</time></h2>")]
    titles = re.findall(r'class="session-title"><a href="[^"]+">([^<]+)</a>', slot)
    assert [unescape(t)[:9] for t in titles] == ["Atelier 1", "Atelier 2", "Atelier 3", "Atelier 4"]
    assert "4 sessions en parallèle" in slot


def test_programme_cards_show_kinds_in_french(client, demo_event):
    text = main_text(client.get(f"/e/{demo_event.slug}/?day=2019-06-06"))
    for label in ("Accueil", "Plénière", "Table ronde", "Atelier", "Déjeuner", "Présentation d'expériences"):
        assert label in text
    assert "round-table" not in text and "workshop" not in text


def test_programme_card_shows_time_room_track_and_people_with_roles(client, demo_event):
    html = html_of(client.get(f"/e/{demo_event.slug}/?day=2019-06-06"))
    code = code_of(demo_event, "Table ronde — Quel avenir")
    card = html[html.index(f'id="s-{code}"') :]
    card = " ".join(unescape(re.sub(r"<[^>]+>", " ", card[: card.index("</article>")])).split())
    assert "10 h 00 – 11 h 15 · Amphithéâtre" in card
    assert "Développement économique" in card
    assert "Marion Le Bihan — Directrice, RésOVilles Modérateur·rice" in card
    assert "Grand témoin" in card


def test_programme_card_links_to_the_session_and_has_a_star_for_the_agenda(client, demo_event):
    code = code_of(demo_event, "Atelier 3")
    html = html_of(client.get(f"/e/{demo_event.slug}/?day=2019-06-06"))
    assert f'href="/e/{demo_event.slug}/s/{code}"' in html
    assert re.search(rf'<button type="button" class="star" data-code="{code}" aria-pressed="false" hidden>', html)


def test_programme_track_colour_is_a_class_never_a_style_attribute(client, app):
    make_event()
    html = html_of(client.get("/e/mini/"))
    assert 'class="card session tc-violet" id="s-W1"' in html
    assert "style=" not in html
    assert "<style" not in html


def test_public_pages_have_no_inline_script(client, demo_event):
    code = code_of(demo_event, "Atelier 1")
    for url in (f"/e/{demo_event.slug}/", f"/e/{demo_event.slug}/s/{code}", f"/e/{demo_event.slug}/mon-programme"):
        html = html_of(client.get(url))
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], url
        assert " on" + "click=" not in html and "style=" not in html


def test_programme_page_has_landmarks_one_h1_and_a_skip_link(client, demo_event):
    html = html_of(client.get(f"/e/{demo_event.slug}/"))
    assert html.count("<h1") == 1
    assert 'href="#main"' in html and '<main id="main"' in html
    assert "<header" in html and "<footer" in html and "<nav" in html
    assert '<html lang="fr">' in html
    for control in re.findall(r'<(?:select|input)[^>]*\bid="([^"]+)"', html):
        assert f'<label for="{control}">' in html


def test_programme_footer_links_to_staff_login(client, demo_event):
    html = html_of(client.get(f"/e/{demo_event.slug}/"))
    assert 'href="/login"' in html and "Connexion équipe" in html


def test_programme_of_an_unknown_event_is_a_french_404(client, app):
    response = client.get("/e/nope/")
    assert response.status_code == 404
    assert "Page introuvable" in text_of(response)
    assert "Cet événement n'existe pas." in text_of(response)


def test_unpublished_event_is_hidden_from_the_public(client, app):
    make_event("brouillon", published=False)
    assert client.get("/e/brouillon/").status_code == 404


def test_programme_uses_a_handful_of_queries(client, demo_event, app):
    counter = QueryCount()
    sa_event.listen(db.engine, "before_cursor_execute", counter)
    try:
        response = client.get(f"/e/{demo_event.slug}/?day=2019-06-06")
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", counter)
    assert response.status_code == 200
    assert counter.count <= 8


# --- filters ---


def test_filter_by_track(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/?day=2019-06-06&track=europe")
    assert card_codes(response) == [code_of(demo_event, "Atelier 4")]
    assert "1 session correspond" in main_text(response)


def test_filter_by_kind(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/?day=2019-06-06&kind=round-table")
    round_tables = [code_of(demo_event, "Table ronde — Quel"), code_of(demo_event, "Table ronde — Méthodes")]
    assert sorted(card_codes(response)) == sorted(round_tables)


def test_filter_by_room(client, demo_event):
    room = next(r for r in demo_event.rooms if r.name == "Salle Rance")
    response = client.get(f"/e/{demo_event.slug}/?day=2019-06-06&room={room.id}")
    assert card_codes(response) == [code_of(demo_event, "Atelier 3")]
    assert f'<option value="{room.id}" selected>Salle Rance</option>' in html_of(response)


def test_search_is_accent_and_case_insensitive(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/?day=2019-06-06&q=NUMERIQUE")
    assert code_of(demo_event, "Atelier 3") in card_codes(response)


def test_search_finds_people_and_organisations(client, demo_event):
    by_name = client.get(f"/e/{demo_event.slug}/?day=2019-06-06&q=saddedine")
    assert code_of(demo_event, "Atelier 6") in card_codes(by_name)
    by_organisation = client.get(f"/e/{demo_event.slug}/?day=2019-06-06&q=banque des territoires")
    assert code_of(demo_event, "Atelier 1") in card_codes(by_organisation)


def test_search_points_to_matches_on_other_days(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/?day=2019-06-06&q=club dev")
    assert card_codes(response) == []
    text = main_text(response)
    assert "Aucune session ne correspond" in text
    assert "vendredi 7 juin (1)" in text


def test_filters_together_with_nothing_left_say_so(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/?day=2019-06-06&kind=lunch&q=smart")
    assert response.status_code == 200
    assert card_codes(response) == []
    assert "Aucune session ne correspond" in main_text(response)
    assert "Effacer les filtres" in main_text(response)


@pytest.mark.parametrize(
    "query",
    [
        "track=nope&kind=zzz&room=abc",
        "day=2099-99-99",
        "day=not-a-day&room=-1",
        "room=999999999999999999999999",
        "q=" + "a" * 20000,
        "q=%00%ff",
        "kind=<script>",
    ],
)
def test_nonsense_filters_are_ignored(client, demo_event, query):
    everything = card_codes(client.get(f"/e/{demo_event.slug}/?day=2019-06-06"))
    response = client.get(f"/e/{demo_event.slug}/?day=2019-06-06&{query}")
    assert response.status_code == 200
    if "day=" in query:
        response = client.get(f"/e/{demo_event.slug}/?{query}")
        assert response.status_code == 200
    else:
        assert card_codes(response) == everything


def test_filter_form_works_without_javascript(client, demo_event):
    html = html_of(client.get(f"/e/{demo_event.slug}/"))
    form = html[html.index('<form class="filters"') : html.index("</form>")]
    assert 'method="get"' in form
    assert all(f'name="{name}"' in form for name in ("day", "q", "track", "kind", "room"))
    assert '<option value="atelier' not in form
    assert '<option value="workshop">Atelier</option>' in form


# --- now / next ---


def test_now_and_next_during_the_workshops(app, client, demo_event):
    app.config["FORUM_NOW"] = DURING_WORKSHOPS
    html = html_of(client.get(f"/e/{demo_event.slug}/"))
    block = html[html.index('<section class="now-next"') : html.index("</section>")]
    now_part, next_part = block.split(">Ensuite<")
    for n in range(1, 5):
        assert f"Atelier {n} —" in now_part
    assert "Déjeuner" in next_part and "13 h 00" in next_part
    assert "Atelier" not in next_part


def test_now_and_next_shows_on_the_event_day_whatever_day_is_viewed(app, client, demo_event):
    app.config["FORUM_NOW"] = DURING_WORKSHOPS
    html = html_of(client.get(f"/e/{demo_event.slug}/?day=2019-06-07"))
    assert "Maintenant" in html and "Atelier 1 —" in html


def test_no_now_and_next_outside_the_event(app, client, demo_event):
    app.config["FORUM_NOW"] = "2019-06-20T11:45:00+02:00"
    assert 'class="now-next"' not in html_of(client.get(f"/e/{demo_event.slug}/"))


def test_now_and_next_at_the_end_of_the_day(app, client, demo_event):
    app.config["FORUM_NOW"] = "2019-06-06T20:00:00+02:00"
    text = main_text(client.get(f"/e/{demo_event.slug}/"))
    assert "Aucune session en ce moment." in text and "Plus aucune session aujourd'hui." in text


# --- session page ---


def test_session_page_shows_day_time_duration_room_track_and_kind(client, demo_event):
    code = code_of(demo_event, "Atelier 3")
    response = client.get(f"/e/{demo_event.slug}/s/{code}")
    assert response.status_code == 200
    text = main_text(response)
    assert "jeudi 6 juin" in text
    assert "11 h 30 – 13 h 00" in text
    assert "Durée 1 h 30" in text
    assert "Salle Rance" in text and "Numérique et smart city" in text and "Atelier" in text


def test_session_page_groups_people_by_role(client, app):
    make_event()
    text = main_text(client.get("/e/mini/s/W1"))
    assert "Intervenant·e Léa Morvan — Cheffe de projet, Ville de Brest" in text
    assert "Modérateur·rice Karim Benali — Directeur, Coopérative Élan" in text
    assert "Grand témoin Awa Diallo — Présidente, Association Horizon" in text
    assert "Rapporteur·e Thomas Petit — Chargé d'études, ADULM" in text
    positions = [text.index(label) for label in ("Intervenant·e", "Modérateur·rice", "Grand témoin", "Rapporteur·e")]
    assert positions == sorted(positions)


def test_session_page_plural_role_heading(client, demo_event):
    code = code_of(demo_event, "Table ronde — Quel avenir")
    assert "Intervenant·e·s" in main_text(client.get(f"/e/{demo_event.slug}/s/{code}"))


def test_session_page_abstract_keeps_paragraphs(client, app):
    make_event()
    html = html_of(client.get("/e/mini/s/W1"))
    assert "<p>Premier paragraphe.</p>" in html and "<p>Second paragraphe.</p>" in html


def test_script_in_title_and_abstract_is_shown_as_text(client, app):
    event = make_event()
    session = next(s for s in event.sessions if s.code == "W2")
    session.title = "<script>alert('titre')</script>"
    session.abstract = "<script>alert('résumé')</script>\n<b>gras</b>"
    event.programme_version += 1
    db.session.commit()
    for url in ("/e/mini/s/W2", "/e/mini/"):
        html = html_of(client.get(url))
        assert "<script>alert" not in html and "<b>gras" not in html
        assert "&lt;script&gt;alert(" in html
    assert "&lt;b&gt;gras&lt;/b&gt;" in html_of(client.get("/e/mini/s/W2"))


def test_session_page_links_back_to_its_day_and_to_the_calendar_file(client, demo_event):
    code = code_of(demo_event, "Club dev")
    html = html_of(client.get(f"/e/{demo_event.slug}/s/{code}"))
    assert f'href="/e/{demo_event.slug}/?day=2019-06-07#s-{code}"' in html
    assert f'href="/e/{demo_event.slug}/s/{code}.ics"' in html
    assert re.search(rf'class="star star-labelled button" data-code="{code}" aria-pressed="false"', html)


def test_session_code_is_case_insensitive(client, app):
    make_event()
    assert client.get("/e/mini/s/w1").status_code == 200


def test_unknown_session_is_a_french_404(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/s/ZZ99")
    assert response.status_code == 404
    assert "Page introuvable" in text_of(response) and "Cette session n'existe pas." in text_of(response)


def test_unknown_page_is_a_french_404(client, app):
    response = client.get("/nimporte/quoi")
    assert response.status_code == 404
    assert '<html lang="fr">' in html_of(response) and "Page introuvable" in text_of(response)


# --- personal agenda ---


def test_my_programme_explains_without_javascript_and_holds_every_session(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/mon-programme")
    assert response.status_code == 200
    html = html_of(response)
    assert "besoin de JavaScript" in html
    assert f'href="/e/{demo_event.slug}/"' in html
    assert len(re.findall(r'<li data-code="[^"]+" hidden>', html)) == len(demo_event.sessions)
    assert f'data-ics="/e/{demo_event.slug}/agenda.ics"' in html
    assert re.search(r'src="/static/r/[0-9a-f]+/js/agenda\.js"', html)


# --- HTTP: caching, compression, language ---


def test_programme_answers_304_to_a_repeat_visit(client, demo_event):
    url = f"/e/{demo_event.slug}/"
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag


def test_etag_changes_when_the_programme_changes(client, demo_event):
    url = f"/e/{demo_event.slug}/"
    etag = client.get(url).headers["ETag"]
    demo_event.programme_version += 1
    db.session.commit()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_etag_differs_per_day_and_filters(client, demo_event):
    base = f"/e/{demo_event.slug}/"
    queries = ("?day=2019-06-06", "?day=2019-06-07", "?day=2019-06-06&q=smart")
    etags = {client.get(base + query).headers["ETag"] for query in queries}
    assert len(etags) == 3


def test_etag_follows_the_minute_on_the_event_day(app, client, demo_event):
    url = f"/e/{demo_event.slug}/"
    app.config["FORUM_NOW"] = DURING_WORKSHOPS
    etag = client.get(url).headers["ETag"]
    app.config["FORUM_NOW"] = "2019-06-06T11:46:00+02:00"
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_session_page_answers_304(client, demo_event):
    url = f"/e/{demo_event.slug}/s/{code_of(demo_event, 'Atelier 2')}"
    etag = client.get(url, headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_programme_is_gzipped(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert "Atelier 1" in html_of(response)


def test_language_switch_sets_the_cookie_and_the_page_language(client, demo_event):
    url = f"/e/{demo_event.slug}/"
    response = client.get(url + "?lang=en")
    assert "lang=en" in response.headers.get("Set-Cookie", "")
    assert '<html lang="en">' in html_of(response)
    refresh()  # the `app` fixture keeps one app context (and Babel's cached locale) across requests
    assert '<html lang="en">' in html_of(client.get(url))
    refresh()
    assert '<html lang="fr">' in html_of(client.get(url + "?lang=fr"))


def test_language_links_keep_the_current_page_and_filters(client, demo_event):
    html = html_of(client.get(f"/e/{demo_event.slug}/?day=2019-06-07&kind=meeting"))
    assert f'href="/e/{demo_event.slug}/?day=2019-06-07&amp;kind=meeting&amp;lang=en"' in html


def test_etag_differs_per_language(client, demo_event):
    url = f"/e/{demo_event.slug}/"
    etag = client.get(url + "?lang=fr").headers["ETag"]
    refresh()  # see test_language_switch_sets_the_cookie_and_the_page_language
    assert client.get(url + "?lang=en", headers={"If-None-Match": etag}).status_code == 200


# --- offline and static files ---


def test_service_worker_is_served_from_the_root_without_caching(client, app):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype in ("application/javascript", "text/javascript")
    assert response.headers["Cache-Control"] == "no-cache"
    assert b"addEventListener('fetch'" in response.get_data()


def test_versioned_static_files_are_cached_long_and_gzipped(client, demo_event):
    html = html_of(client.get(f"/e/{demo_event.slug}/"))
    css = re.search(r'href="(/static/r/[0-9a-f]+/css/app\.css)"', html).group(1)
    response = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Encoding"] == "gzip"
    assert b".card" in gzip.decompress(response.get_data())


def test_programme_first_load_stays_small(client, demo_event):
    """HTML + stylesheet + scripts, gzipped: the phone budget is 30 KB in 4 requests."""
    html = html_of(client.get(f"/e/{demo_event.slug}/"))
    assets = re.findall(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"', html)
    assert len(assets) + 1 <= 4
    total = len(client.get(f"/e/{demo_event.slug}/", headers={"Accept-Encoding": "gzip"}).get_data())
    for url in assets:
        total += len(client.get(url, headers={"Accept-Encoding": "gzip"}).get_data())
    assert total <= 30 * 1024


def test_offline_notice_is_in_the_page_for_the_service_worker(client, demo_event):
    html = html_of(client.get(f"/e/{demo_event.slug}/"))
    assert 'data-offline-notice hidden' in html
    assert 'data-sw="/sw.js"' in html


def test_programme_page_shows_an_organiser_edit_on_the_next_visit(client, demo_event):
    from forum_app.programme import services as programme_services

    session = next(s for s in demo_event.sessions if s.code == "A1")
    first = html_of(client.get(f"/e/{demo_event.slug}/?day=2019-06-06"))
    values = programme_services.session_form_values(demo_event, session)
    values["title"] = "Atelier 1 — titre corrigé"
    programme_services.update_session(demo_event, session, programme_services.SessionInput(**values))

    again = html_of(client.get(f"/e/{demo_event.slug}/?day=2019-06-06"))
    session_page = html_of(client.get(f"/e/{demo_event.slug}/s/A1"))

    assert "Atelier 1 — Immobilier" in first
    assert "Atelier 1 — titre corrigé" in again and "Atelier 1 — Immobilier" not in again
    assert "Atelier 1 — titre corrigé" in session_page
