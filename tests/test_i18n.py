"""French first, English second: pages switch to English only when the visitor asks (?lang=en, then
the `lang` cookie), and every French source string has an English translation in the catalogue."""
from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
EN_MO = EN_PO.with_suffix(".mo")
BROWSER_FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}
BROWSER_ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogue():
    """`make translations` compiles the .mo before the tests; do it here too when it is missing or
    older than the .po, so `pytest tests/test_i18n.py` on a fresh clone tests the real catalogue."""
    if not EN_MO.exists() or EN_MO.stat().st_mtime < EN_PO.stat().st_mtime:
        with EN_PO.open("rb") as po:
            catalogue = read_po(po, locale="en")
        with EN_MO.open("wb") as mo:
            write_mo(mo, catalogue)
        from forum_app.extensions import babel

        babel.domain_instance.cache.clear()  # forget catalogues loaded before the .mo existed


def _text(response) -> str:
    """The page's visible text on one line, entities decoded enough for plain assertions."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"')
    return re.sub(r"\s+", " ", text)


def _html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "no lang attribute on <html>"
    return match.group(1)


def _badges(response) -> list[str]:
    """The session kind labels on programme cards and the session page."""
    return re.findall(r'<span class="badge">([^<]+)</span>', response.get_data(as_text=True))


# --- English on request ---


def test_programme_in_english_with_lang_en(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/?lang=en", headers=BROWSER_FRENCH)

    assert response.status_code == 200
    assert _html_lang(response) == "en"
    text = _text(response)
    badges = _badges(response)
    assert "Workshop" in badges and "Round table" in badges and "Plenary" in badges
    assert "Atelier" not in badges and "Table ronde" not in badges
    assert "Thu 6 Jun" in text and "Fri 7 Jun" in text  # the day tabs
    assert "14:15" in text and "10:00 – 11:15" in text
    assert "14 h 15" not in text
    assert "Search for a session or a person" in text
    assert "Moderator" in text and "Speaker" in text
    assert "My programme" in text


def test_session_page_in_english_with_lang_en(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/s/S103?lang=en")

    assert response.status_code == 200
    assert _html_lang(response) == "en"
    text = _text(response)
    assert _badges(response) == ["Round table"]
    assert "Programme for Thursday 6 June" in text
    assert "Day Thursday 6 June" in text
    assert "Time 10:00 – 11:15" in text
    assert "Duration" in text and "Format Round table" in text
    assert "Moderator" in text and "Speakers" in text and "Guest observer" in text
    assert "Add to my calendar" in text
    assert "jeudi" not in text and "Intervenant" not in text


def test_workshop_session_in_english_shows_sign_up_with_seats(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/s/A1?lang=en")

    text = _text(response)
    assert "Sign-up required, 60 seats" in text
    assert "Time 11:30 – 13:00" in text


def test_login_page_in_english_with_lang_en(client):
    response = client.get("/login?lang=en")

    assert response.status_code == 200
    assert _html_lang(response) == "en"
    text = _text(response)
    assert "Staff login" in text
    assert "Email address" in text and "Password" in text and "Log in" in text
    assert "Mot de passe" not in text


def test_login_errors_in_english_with_lang_en(client):
    response = client.post("/login?lang=en", data={"email": "", "password": ""})

    text = _text(response)
    assert "This field is required." in text
    assert "The form has 2 errors: correct them, then save." in text
    assert "Email address: This field is required." in text


def test_not_found_page_in_english_with_lang_en(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/s/NOPE?lang=en")

    assert response.status_code == 404
    assert _html_lang(response) == "en"
    text = _text(response)
    assert "Page not found" in text
    assert "This session does not exist." in text
    assert "Error 404" in text


def test_unknown_url_not_found_page_in_english_with_lang_en(client):
    response = client.get("/no-such-page?lang=en")

    assert response.status_code == 404
    assert "Page not found" in _text(response)


# --- Messages worded by the registration rules (domain.py and services keep French templates) ---


DEMO_DATA = ROOT / "forum_app" / "demo_data"


def _register_data(**overrides) -> dict:
    data = {
        "first_name": "Camille",
        "last_name": "Durand",
        "email": "camille.durand@example.org",
        "category": "collectivite",
        "consent": "y",
        "workshops": ["A1", "A3"],
    }
    data.update(overrides)
    return data


def _titles(event) -> dict[str, str]:
    return {session.code: session.title for session in event.sessions}


def test_register_page_in_english_shows_the_workshop_clash_and_missing_last_name(client, demo_event):
    titles = _titles(demo_event)

    response = client.post(f"/e/{demo_event.slug}/register?lang=en", data=_register_data(last_name=""))

    assert response.status_code == 422
    text = _text(response)
    assert (
        f"A1 (“{titles['A1']}”) and A3 (“{titles['A3']}”) take place at the same time: choose only one." in text
    )
    assert "Last name: This field is required." in text
    assert "en même temps" not in text and "obligatoire" not in text


def test_register_page_in_english_words_the_services_refusal_in_english(client, demo_event):
    titles = _titles(demo_event)

    response = client.post(f"/e/{demo_event.slug}/register?lang=en", data=_register_data(last_name="Du\x01rand"))

    assert response.status_code == 422
    text = _text(response)
    assert "Character not allowed (line break or control character)." in text
    assert f"A1 (“{titles['A1']}”) and A3 (“{titles['A3']}”) take place at the same time" in text
    assert "caractère" not in text and "en même temps" not in text


def test_register_page_in_french_keeps_the_french_workshop_clash(client, demo_event):
    titles = _titles(demo_event)

    response = client.post(f"/e/{demo_event.slug}/register", data=_register_data(last_name="Du\x01rand"))

    text = _text(response)
    assert "Caractère non autorisé (retour à la ligne ou caractère de contrôle)." in text
    assert f"A1 (« {titles['A1']} ») et A3 (« {titles['A3']} ») ont lieu en même temps : choisissez-en un seul." in text


def test_delegation_import_errors_in_english_with_lang_en(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))
    data = (DEMO_DATA / "delegation-with-errors.csv").read_bytes()

    response = client.post(
        f"/e/{demo_event.slug}/admin/delegations/import?lang=en",
        data={"file": (io.BytesIO(data), "delegation.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    text = _text(response)
    assert "Row 3: Last name: this field is required." in text
    assert "Row 4: Email address: the “@” is missing (example: firstname.lastname@example.com)." in text
    assert "obligatoire" not in text and "il manque" not in text


# --- French first ---


def test_french_by_default_even_when_browser_prefers_english(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/", headers=BROWSER_ENGLISH)

    assert _html_lang(response) == "fr"
    text = _text(response)
    badges = _badges(response)
    assert "Atelier" in badges and "Table ronde" in badges
    assert "Workshop" not in badges
    assert "jeu. 6 juin" in text
    assert "14 h 15" in text and "14:15" not in text
    assert "Rechercher une session, une personne" in text


def test_session_page_in_french_by_default(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/s/S103", headers=BROWSER_ENGLISH)

    text = _text(response)
    assert _html_lang(response) == "fr"
    assert "Programme du jeudi 6 juin" in text
    assert "10 h 00 – 11 h 15" in text
    assert "Grand témoin" in text


def test_unknown_lang_value_is_ignored(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/?lang=de")

    assert _html_lang(response) == "fr"
    assert client.get_cookie("lang") is None


# --- The choice is remembered ---


def test_lang_cookie_remembers_english_then_french(client, demo_event):
    programme = f"/e/{demo_event.slug}/"

    chosen = client.get(programme + "?lang=en")
    assert client.get_cookie("lang").value == "en"
    assert "Cookie" in chosen.headers["Vary"]

    later = client.get(f"/e/{demo_event.slug}/s/S103", headers=BROWSER_FRENCH)
    assert _html_lang(later) == "en"
    assert "Round table" in _badges(later)
    login = client.get("/login")
    assert "Staff login" in _text(login)

    client.get(programme + "?lang=fr")
    assert client.get_cookie("lang").value == "fr"
    back = client.get(programme, headers=BROWSER_ENGLISH)
    assert _html_lang(back) == "fr"
    assert "Atelier" in _badges(back)


def test_language_switch_links_keep_the_page_and_its_filters(client, demo_event):
    response = client.get(f"/e/{demo_event.slug}/?day=2019-06-07&kind=meeting")

    html = response.get_data(as_text=True)
    english = re.search(r'<a href="([^"]+)" lang="en"', html).group(1).replace("&amp;", "&")
    assert english.startswith(f"/e/{demo_event.slug}/?")
    assert "day=2019-06-07" in english and "kind=meeting" in english and "lang=en" in english
    switched = client.get(english)
    assert "Meeting" in _badges(switched)
    assert "Fri 7 Jun" in _text(switched)


# --- The catalogue: every French string has its English translation ---


def _makefile_keywords() -> list[str]:
    """The `-k` options `make messages` extracts with (one list, so the test and the Makefile agree)."""
    match = re.search(r"^BABEL_KEYWORDS\s*:?=\s*(.+)$", (ROOT / "Makefile").read_text(), flags=re.M)
    assert match, "Makefile: BABEL_KEYWORDS is missing"
    return shlex.split(match.group(1))


def _extract(tmp_path: Path):
    """A fresh extraction of templates/ and forum_app/, exactly as `make messages` does it."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), *_makefile_keywords(), "-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as fh:
        return read_po(fh)


def _forms(message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def test_every_source_string_has_an_english_translation(tmp_path):
    extracted = _extract(tmp_path)
    with EN_PO.open("rb") as fh:
        english = read_po(fh, locale="en")

    problems = []
    for source in extracted:
        if not source.id:
            continue
        where = ", ".join(f"{Path(path).relative_to(ROOT)}:{line}" for path, line in source.locations[:2])
        translated = english.get(source.id, context=source.context)
        msgid = source.id if isinstance(source.id, str) else source.id[0]
        if translated is None:
            problems.append(f"not in the catalogue: {msgid!r} ({where})")
        elif translated.fuzzy:
            problems.append(f"fuzzy: {msgid!r} ({where})")
        elif not all(form.strip() for form in _forms(translated)):
            problems.append(f"no English: {msgid!r} ({where})")
        elif source.pluralizable != translated.pluralizable:
            problems.append(f"singular/plural mismatch: {msgid!r} ({where})")

    assert len(extracted) > 100, "the extraction found almost nothing: check babel.cfg"
    assert not problems, (
        "Run `make messages`, then translate in translations/en/LC_MESSAGES/messages.po:\n  " + "\n  ".join(problems)
    )


def test_english_catalogue_is_clean():
    """No fuzzy entry, placeholders kept exactly, both plural forms, and the file parses strictly."""
    with EN_PO.open("rb") as fh:
        english = read_po(fh, locale="en", abort_invalid=True)

    assert english.plural_forms == "nplurals=2; plural=(n != 1);"
    fuzzy = [m.id for m in english if m.id and m.fuzzy]
    placeholder_errors = [(m.id, [str(e) for e in errors]) for m, errors in english.check()]
    assert not fuzzy
    assert not placeholder_errors
    for message in english:
        if message.id and message.pluralizable:
            assert len(message.string) == 2 and all(message.string), message.id
