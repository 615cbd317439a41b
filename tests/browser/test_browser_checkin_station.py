"""The door check-in station in a real phone-sized Chromium: a volunteer types badges with a
handheld scanner (keyboard + Enter) and sees each outcome fill the screen; search by name and
one-tap check-in; an organiser undoes a check-in, reprints a badge and lets someone in without
a seat; axe-core; and the camera, through Chromium's fake camera showing a real badge QR code
decoded by the vendored BarcodeDetector polyfill (Chromium on Linux has no native detector).

Screenshots: tests/screenshots/checkin-station-<outcome>.png and a few more.
"""
from __future__ import annotations

import io
import uuid
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible

PASSWORD = "station-browser-password"
ANSWER = ".answer"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
# The camera test launches its own Chromium with a fake camera; the rest use conftest's fixtures.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "fr-FR", "timezone_id": "Europe/Paris"}


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
    assert page.locator("input[name=password]").count() == 0, f"login as {email} failed: still on {page.url}"


def save_screenshot(page, name: str, *, full_page: bool = False) -> Path:
    """What the phone shows (the answer is fixed over the screen), under tests/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def _tag() -> str:
    return uuid.uuid4().hex[:8]


class Door:
    """What the tests need of the live server's data: people and their badge texts."""

    def __init__(self, live_server):
        self.live_server = live_server
        self.tag = _tag()

    def ctx(self):
        return self.live_server.app.app_context()

    def event(self):
        from forum_app.programme.services import get_event

        return get_event(self.live_server.slug)

    def person(self, first_name: str, last_name: str, *, organisation: str = "", category: str = "collectivite",
               workshops: tuple[str, ...] = (), pending: bool = False, event=None) -> dict:
        """Register someone through the real service; returns {id, name, badge}."""
        from forum_app.badges.services import badge_payload
        from forum_app.extensions import db
        from forum_app.registration import services as registration
        from forum_app.registration.services import RegistrationInput

        with self.ctx():
            event = event or self.event()
            data = RegistrationInput(
                first_name=first_name, last_name=last_name, email=f"station.{self.tag}.{last_name.lower()}@browser.example",
                organisation=organisation, job_title="Chargée de mission", category=category,
                workshop_codes=list(workshops), consent=True,
            )
            if pending:
                event.approval_required = True
                db.session.commit()
                try:
                    person = registration.register(event, data, source="form").registration
                finally:
                    event = db.session.merge(event)
                    event.approval_required = False
                    db.session.commit()
            else:
                person = registration.register(event, data, source="desk").registration
            result = {"id": person.id, "name": person.full_name, "badge": badge_payload(person)}
            db.session.remove()
        return result

    def cancel(self, person: dict) -> None:
        from forum_app.badges.services import registration_by_id
        from forum_app.extensions import db
        from forum_app.registration import services as registration

        with self.ctx():
            registration.cancel(registration_by_id(self.event(), person["id"]))
            db.session.remove()

    def reissue(self, person: dict) -> str:
        """Reissue the badge; returns the new badge text (the old one is now revoked)."""
        from forum_app.badges import services as badges
        from forum_app.extensions import db

        with self.ctx():
            renewed = badges.reissue(badges.registration_by_id(self.event(), person["id"]))
            text = badges.badge_payload(renewed)
            db.session.remove()
        return text

    def badge_of_another_event(self) -> str:
        from forum_app.extensions import db
        from forum_app.programme.models import Event

        with self.ctx():
            other = Event(slug=f"station-autre-{self.tag}", title="Un autre forum", start_date=date(2019, 9, 1),
                          end_date=date(2019, 9, 1), is_published=False)
            db.session.add(other)
            db.session.commit()
            other_id = other.id
            db.session.remove()
        with self.ctx():
            other = db.session.get(Event, other_id)
            text = self.person("Autre", "Forum", event=other)["badge"]
        return text

    def outcomes(self, person: dict) -> list[str]:
        """The outcomes of every scan of this person, in the order they were recorded."""
        from forum_app.checkin.models import CheckIn
        from forum_app.extensions import db

        with self.ctx():
            rows = db.session.scalars(
                db.select(CheckIn.outcome).filter_by(registration_id=person["id"]).order_by(CheckIn.id)
            ).all()
            db.session.remove()
        return list(rows)

    def staff(self, role: str) -> str:
        from forum_app.auth import services as auth_services
        from forum_app.extensions import db

        email = f"station.{role}.{self.tag}@browser.example"
        with self.ctx():
            auth_services.ensure_user(email, PASSWORD, name=f"{role.capitalize()} station", event=self.event(), role=role)
            db.session.remove()
        return email


@pytest.fixture
def door(live_server) -> Door:
    return Door(live_server)


def open_station(new_context, live_server, email: str, **context_options):
    page = new_context(**context_options).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.problems = problems
    log_in(page, email)
    page.goto(live_server.event_url("checkin"))
    expect(page.locator("#station")).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-kit]")).to_contain_text("mise à jour")  # the kit is on the device
    return page


def handheld(page, text: str) -> None:
    """What a USB/Bluetooth scanner does: types the code into the focused field, then Enter."""
    expect(page.get_by_label("Code du badge (douchette)")).to_be_focused()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def answer(page, outcome: str):
    shown = page.locator(f"{ANSWER}[data-outcome='{outcome}']")
    expect(shown).to_be_visible()
    return shown


# --- a volunteer with a handheld scanner: every outcome ---


def test_volunteer_sees_every_outcome_of_a_handheld_scan(new_context, live_server, door):
    workshop = live_server.code_of("Atelier 1 —")
    other_workshop = live_server.code_of("Atelier 2 —")
    amina = door.person("Amina", "Benali", organisation="Ville de Roubaix", workshops=(workshop,))
    pending = door.person("Paul", "Attente", organisation="Association Lien", pending=True)
    cancelled = door.person("Chloé", "Annulée", organisation="Métropole de Lille")
    door.cancel(cancelled)
    reissued = door.person("Rémi", "Réédité", organisation="Caisse des Dépôts", category="etat")
    door.reissue(reissued)  # the badge text kept in `reissued` is the old one: revoked
    foreign = door.badge_of_another_event()
    page = open_station(new_context, live_server, door.staff("volunteer"))
    page.get_by_label("Nom du poste").fill("Porte 2")
    page.get_by_label("Nom du poste").press("Enter")  # back to the badge field

    handheld(page, amina["badge"])
    green = answer(page, "checked_in")
    expect(green).to_have_class("answer answer-ok")
    expect(green).to_contain_text("Arrivée enregistrée")
    expect(green).to_contain_text("Amina Benali")
    expect(green).to_contain_text("Ville de Roubaix")
    expect(green).to_contain_text("Collectivité")
    expect(green).to_contain_text(f"{workshop} 11 h 30 Atelier 1 — Immobilier")
    expect(green.get_by_role("button", name="Annuler ce passage")).to_have_count(0)  # organisers only
    save_screenshot(page, "checkin-station-checked_in", full_page=False)

    handheld(page, amina["badge"])  # the next badge replaces the answer at once
    amber = answer(page, "already_checked_in")
    expect(amber).to_have_class("answer answer-warn")
    expect(amber).to_contain_text("Déjà enregistré·e à")
    expect(amber).to_contain_text("(Porte 2)")
    expect(amber).to_contain_text("Amina Benali")
    save_screenshot(page, "checkin-station-already_checked_in", full_page=False)

    refusals = [
        ("invalid", amina["badge"][:-6] + "AAAAAA", "Badge inconnu ou falsifié", None),
        ("revoked", reissued["badge"], "Ancien badge : un nouveau badge a été émis", "Rémi Réédité"),
        ("cancelled", cancelled["badge"], "Inscription annulée", "Chloé Annulée"),
        ("wrong_event", foreign, "Badge d'un autre événement", None),
        ("not_confirmed", pending["badge"], "Inscription en attente de validation", "Paul Attente"),
    ]
    for outcome, text, reason, name in refusals:
        page.locator(ANSWER).click()  # a tap clears the answer
        expect(page.locator(ANSWER)).to_have_count(0)
        handheld(page, text)
        red = answer(page, outcome)
        expect(red).to_have_class("answer answer-error")
        expect(red).to_contain_text("Entrée refusée")
        expect(red).to_contain_text(reason)
        if name:
            expect(red).to_contain_text(name)
        save_screenshot(page, f"checkin-station-{outcome}", full_page=False)

    page.keyboard.press("Escape")
    page.get_by_label("Porte").select_option(other_workshop)  # a workshop door Amina has no seat at
    handheld(page, amina["badge"])
    red = answer(page, "not_signed_up")
    expect(red).to_contain_text("Pas de place réservée dans cet atelier")
    expect(red.get_by_role("button", name="Faire entrer quand même")).to_have_count(0)  # organisers only
    save_screenshot(page, "checkin-station-not_signed_up", full_page=False)

    expect(page.locator(ANSWER)).to_have_count(0, timeout=6_000)  # it clears itself after 4 s
    expect(page.get_by_label("Code du badge (douchette)")).to_be_focused()
    expect(page.locator("[data-net]")).to_contain_text("En ligne · tout est envoyé")
    assert page.problems == []


def test_station_remembers_its_door_name_and_sound_on_the_device(new_context, live_server, door):
    email = door.staff("volunteer")
    context = new_context()
    page = context.new_page()
    log_in(page, email)
    page.goto(live_server.event_url("checkin"))
    expect(page.locator("#station")).to_have_attribute("data-ready", "true")
    workshop = live_server.code_of("Atelier 3 —")
    page.get_by_label("Porte").select_option(workshop)
    page.get_by_label("Nom du poste").fill("Salle 3")
    page.get_by_role("button", name="Couper le son").click()

    page.reload()

    expect(page.get_by_label("Porte")).to_have_value(workshop)
    expect(page.get_by_label("Nom du poste")).to_have_value("Salle 3")
    expect(page.get_by_role("button", name="Couper le son")).to_have_attribute("aria-pressed", "true")


# --- search by name ---


def test_volunteer_finds_someone_by_name_and_checks_them_in_with_one_tap(new_context, live_server, door):
    person = door.person("Éloïse", "Dupré-Lefèvre", organisation="Communauté urbaine de Dunkerque")
    page = open_station(new_context, live_server, door.staff("volunteer"))

    page.get_by_label("Nom, prénom ou organisation").fill("eloise dupre")
    result = page.locator(".result", has_text="Éloïse Dupré-Lefèvre")
    expect(result).to_contain_text("Communauté urbaine de Dunkerque · Collectivité")
    save_screenshot(page, "checkin-station-search", full_page=False)
    result.get_by_role("button", name="Enregistrer l'arrivée").click()

    green = answer(page, "checked_in")
    expect(green).to_contain_text("Éloïse Dupré-Lefèvre")
    expect(page.get_by_label("Code du badge (douchette)")).to_be_focused()
    page.locator(ANSWER).click()
    page.get_by_label("Nom, prénom ou organisation").fill("Dupré")
    expect(page.locator(".result", has_text=person["name"])).to_contain_text("déjà arrivé·e à")
    save_screenshot(page, "checkin-station-search-arrived", full_page=False)
    assert page.problems == []


# --- organisers: undo, reprint, let in without a seat ---


def test_organiser_undoes_a_check_in_from_the_station(new_context, live_server, door):
    person = door.person("Hugo", "Annulable", organisation="Ville de Tourcoing")
    page = open_station(new_context, live_server, door.staff("organiser"))

    handheld(page, person["badge"])
    green = answer(page, "checked_in")
    save_screenshot(page, "checkin-station-organiser", full_page=False)
    green.get_by_role("button", name="Annuler ce passage").click()

    expect(green).to_contain_text("Passage annulé")
    expect(green.get_by_role("button", name="Annuler ce passage")).to_be_hidden()
    page.locator(ANSWER).click()
    handheld(page, person["badge"])
    expect(answer(page, "checked_in")).to_contain_text("Hugo Annulable")  # arrives again, not a duplicate
    assert page.problems == []


def test_organiser_reprints_a_badge_from_the_station(new_context, live_server, door):
    person = door.person("Inès", "Réimprimée", organisation="Ville de Calais")
    page = open_station(new_context, live_server, door.staff("organiser"), accept_downloads=True)
    handheld(page, person["badge"])
    green = answer(page, "checked_in")

    with page.context.expect_page() as opened:
        green.get_by_role("button", name="Réimprimer le badge").click()
    pdf_tab = opened.value
    pdf_tab.wait_for_load_state()

    assert pdf_tab.url.endswith(f"/admin/registrations/{person['id']}/badge.pdf"), pdf_tab.url
    page.keyboard.press("Escape")
    handheld(page, person["badge"])  # the badge she came with was replaced
    expect(answer(page, "revoked")).to_contain_text("Ancien badge")


def test_organiser_lets_someone_without_a_seat_into_a_workshop(new_context, live_server, door):
    person = door.person("Yanis", "Sansplace", organisation="Région Hauts-de-France")
    page = open_station(new_context, live_server, door.staff("organiser"))
    page.get_by_label("Porte").select_option(live_server.code_of("Atelier 4 —"))
    handheld(page, person["badge"])
    red = answer(page, "not_signed_up")

    red.get_by_role("button", name="Faire entrer quand même").click()

    green = answer(page, "checked_in")
    expect(green).to_contain_text("Entrée accordée sans place réservée")
    expect(green).to_contain_text("Yanis Sansplace")
    save_screenshot(page, "checkin-station-forced", full_page=False)


def test_station_on_a_laptop_at_the_desk(new_context, live_server, door):
    person = door.person("Jeanne", "Portable", organisation="Préfecture du Nord", category="etat",
                         workshops=(live_server.code_of("Atelier 6 —"),))
    page = open_station(new_context, live_server, door.staff("organiser"),
                        viewport={"width": 1280, "height": 800}, is_mobile=False, has_touch=False, device_scale_factor=1)
    save_screenshot(page, "checkin-station-laptop")

    handheld(page, person["badge"])

    expect(answer(page, "checked_in")).to_contain_text("Jeanne Portable")
    save_screenshot(page, "checkin-station-laptop-checked_in")


# --- accessibility ---


def test_station_has_no_serious_accessibility_violation(new_context, live_server, door, axe):
    person = door.person("Lou", "Accessible", organisation="Ville de Lens", workshops=(live_server.code_of("Atelier 5 —"),))
    page = open_station(new_context, live_server, door.staff("organiser"))
    page.get_by_label("Nom, prénom ou organisation").fill("Accessible")
    expect(page.locator(".result")).to_have_count(1)
    save_screenshot(page, "checkin-station-start", full_page=True)

    assert_accessible(axe, page, "station")

    page.get_by_label("Code du badge (douchette)").focus()
    handheld(page, person["badge"])
    answer(page, "checked_in")
    page.evaluate("() => { window.clearTimeout = () => {}; }")  # keep the answer while axe reads it
    assert_accessible(axe, page, "station, green answer with organiser actions")
    handheld(page, "PAS-UN-BADGE")
    answer(page, "invalid")
    assert_accessible(axe, page, "station, red answer")


# --- the camera: a real badge QR code through Chromium's fake camera ---


def badge_frame(text: str | None, width: int, height: int) -> bytes:
    """One YUV 4:2:0 frame: a badge QR code on white as a phone camera would see it (None: no badge)."""
    from PIL import Image

    from forum_app.badges.services import qr_png

    canvas = Image.new("RGB", (width, height), "white")
    if text is not None:
        qr = Image.open(io.BytesIO(qr_png(text, module_px=6, border=4))).convert("RGB")
        side = min(height - 40, qr.width)
        qr = qr.resize((side, side), Image.NEAREST)
        canvas.paste(qr, ((width - side) // 2, (height - side) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (width // 2, height // 2)
    return y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()


def write_y4m(path: Path, shots: list[tuple[str | None, int]], *, width: int = 640, height: int = 480, fps: int = 2) -> None:
    """A raw YUV4MPEG2 video (Chromium's fake camera loops it): each (badge text or None, frames) in turn."""
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for text, frames in shots:
            frame = badge_frame(text, width, height)
            for _ in range(frames):
                out.write(b"FRAME\n" + frame)


def test_camera_reads_a_real_badge_with_the_polyfill(browser, live_server, door, tmp_path):
    person = door.person("Camille", "Caméra", organisation="Ville de Grenoble")
    next_person = door.person("Noé", "Suivant", organisation="Ville de Valence")
    video = tmp_path / "badges.y4m"
    # At 2 frames a second, looping: Camille's badge 2 s, nothing 2 s, Noé's badge 2 s, nothing 2 s.
    write_y4m(video, [(person["badge"], 4), (None, 4), (next_person["badge"], 4), (None, 4)])
    email = door.staff("volunteer")
    args = CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    # A second Chromium from the session's Playwright, with a fake camera filming the badges.
    camera_browser = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    try:
        context = camera_browser.new_context(**{**PHONE, "base_url": live_server.url}, permissions=["camera"])
        context.set_default_timeout(5_000)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
        page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
        log_in(page, email)
        page.goto(live_server.event_url("checkin"))
        expect(page.locator("#station")).to_have_attribute("data-ready", "true")

        page.get_by_role("button", name="Scanner").click()

        expect(page.locator("#station")).to_have_attribute("data-camera", "on")
        green = page.locator(f"{ANSWER}[data-outcome='checked_in']")
        expect(green).to_be_visible(timeout=20_000)  # the WebAssembly loads on first use
        expect(green).to_contain_text("Camille Caméra")
        expect(page.locator("#station")).to_have_attribute("data-detector", "polyfill")
        save_screenshot(page, "checkin-station-camera", full_page=False)
        # Re-armed for the next badge: Noé's, then Camille's again (a duplicate).
        expect(page.locator(ANSWER)).to_contain_text("Noé Suivant", timeout=10_000)
        expect(page.locator(f"{ANSWER}[data-outcome='checked_in']")).to_be_visible()
        expect(page.locator(f"{ANSWER}[data-outcome='already_checked_in']")).to_contain_text(
            "Camille Caméra", timeout=10_000
        )
        page.keyboard.press("Escape")
        save_screenshot(page, "checkin-station-camera-running", full_page=False)
        page.get_by_role("button", name="Pause").click()
        expect(page.locator("#station")).to_have_attribute("data-camera", "paused")
        assert problems == [], problems
    finally:
        camera_browser.close()
    # Camille's badge stayed 2 s in view each time (a dozen frames read): one scan each time.
    assert door.outcomes(person) == ["checked_in", "already_checked_in"]
