"""Real-browser fixtures: one live server on a SQLite file, one Debian Chromium, phone-sized pages.

The server runs the real application (CSRF on, as in production) in a daemon thread on
127.0.0.1 with the demo forum and an organiser account loaded once for the whole session.
Playwright drives Debian's /usr/bin/chromium; it never downloads a browser of its own.
Screenshots land in tests/screenshots/ (git-ignored) for a developer to look at.
"""
from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from forum_app import create_app
from forum_app.config import TestConfig
from forum_app.extensions import db
from tests.databases import file_database_url

ROOT = Path(__file__).resolve().parents[2]
DEMO_JSON = ROOT / "forum_app" / "demo_data" / "citescap-programme.json"
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "fr-FR",
    "timezone_id": "Europe/Paris",
}
ORGANISER_EMAIL = "organisatrice@browser.example"
ORGANISER_PASSWORD = "browser-test-password"
TIMEOUT_MS = 5_000


@dataclass
class LiveServer:
    app: object
    url: str
    slug: str
    organiser_email: str = ORGANISER_EMAIL
    organiser_password: str = ORGANISER_PASSWORD
    codes: dict[str, str] = field(default_factory=dict)  # session title -> code

    def code_of(self, title_start: str) -> str:
        """The code of the session whose title starts with `title_start`."""
        return next(code for title, code in self.codes.items() if title.startswith(title_start))

    def event_url(self, path: str = "") -> str:
        return f"{self.url}/e/{self.slug}/{path}"

    @contextmanager
    def frozen_clock(self, moment: str) -> Iterator[None]:
        """Freeze the server's clock (FORUM_NOW, ISO 8601 with offset) for one test."""
        previous = self.app.config.get("FORUM_NOW")
        self.app.config["FORUM_NOW"] = moment
        try:
            yield
        finally:
            self.app.config["FORUM_NOW"] = previous


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    from forum_app.auth import services as auth_services
    from forum_app.programme import imports

    database_url = file_database_url(tmp_path_factory.mktemp("browser"), suffix="browser")

    class BrowserConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        WTF_CSRF_ENABLED = True  # the browser submits real forms: their CSRF tokens must work
        FORUM_NOW = None

    app = create_app(BrowserConfig)
    with app.app_context():
        db.create_all()
        event = imports.import_schedule_file(DEMO_JSON).event
        auth_services.ensure_user(
            ORGANISER_EMAIL, ORGANISER_PASSWORD, name="Organisatrice", event=event, role="organiser"
        )
        slug = event.slug
        codes = {s.title: s.code for s in event.sessions}
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}", slug=slug, codes=codes)
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


def chromium_executable() -> str | None:
    """Debian's Chromium (never a browser downloaded by Playwright)."""
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    executable = chromium_executable()
    if executable is None:
        pytest.fail(
            f"Chromium is missing ({CHROMIUM}): the browser tests need Debian's chromium package. "
            "Run `make chromium` as root (or `sudo apt-get install chromium`); never `playwright install`.",
            pytrace=False,
        )
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        except Error as error:
            pytest.fail(f"Chromium ({executable}) did not start: {error}", pytrace=False)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_context(browser, live_server) -> Iterator[Callable]:
    """new_context(**overrides) -> a phone-sized, French browser context on the live server."""
    contexts = []

    def _new(**overrides):
        context = browser.new_context(**{**PHONE, "base_url": live_server.url, **overrides})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


class PageProblems:
    """Script errors and console errors (CSP violations, failed loads) seen by a page."""

    def __init__(self, page):
        self.messages: list[str] = []
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))
        page.on("console", lambda message: message.type == "error" and self.messages.append(f"console: {message.text}"))


@pytest.fixture
def page(new_context):
    """A phone-sized page with JavaScript on; `page.problems.messages` lists its script errors."""
    page = new_context().new_page()
    page.problems = PageProblems(page)
    return page


@pytest.fixture
def organiser_page(new_context, live_server):
    """A page logged in as the event's organiser through the real /login form."""
    page = new_context().new_page()
    log_in(page, live_server.organiser_email, live_server.organiser_password)
    return page


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
    assert "/login" not in page.url or page.locator("input[name=password]").count() == 0, (
        f"login as {email} failed: still on {page.url}"
    )


@pytest.fixture
def screenshot() -> Callable:
    """screenshot(page, name) saves a full-page PNG under tests/screenshots/ and returns its path."""
    return save_screenshot


def save_screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot (the whole page, or what the phone shows) under tests/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# --- Accessibility ------------------------------------------------------------------------------------

BLOCKING = {"serious", "critical"}  # axe impacts a page must not have (WCAG 2.1 AA, the RGAA)


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def assert_accessible(axe, page, label: str) -> None:
    """axe-core on the page as it is now: no serious or critical violation (the report names them)."""
    results = axe.run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"{label} ({page.url}): axe found serious/critical violations\n" + results.generate_report()
