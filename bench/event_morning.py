"""The morning of a 1,000-attendee forum against gunicorn: attendees, door stations, rapporteurs
and organisers at once, measured against the budgets (zero errors, p95 ≤ 100 ms for every request type).

    .venv/bin/python bench/event_morning.py                    # the issue's run: 5 minutes on SQLite (~6 min)
    .venv/bin/python bench/event_morning.py --postgres         # the same on a throwaway local PostgreSQL server
    .venv/bin/python bench/event_morning.py --minutes 1        # a short run (arrivals squeezed into 1 minute)
    .venv/bin/python bench/event_morning.py --strict           # exit 1 when a check or a budget is missed
    .venv/bin/python bench/event_morning.py --write-results    # also replace its section of RESULTS.md
    .venv/bin/python bench/event_morning.py --attendees 800 --stations 6 --rapporteurs 8 --organisers 2 --workers 2

What it does, everything on 127.0.0.1, on a temporary database (SQLite file in WAL mode, or
`--postgres`; never the instance database):

  (a) data, through the services: the demo forum (moved to today, so the programme shows the
      day's "now / next" and the check-ins are on the day), `--registrations` (1,000) confirmed
      registrations made by `registration.services.register_many` as an organiser's import
      (40 % with a morning workshop, 30 % an afternoon one: the small rooms fill and wait lists
      form), their badge payloads (`badges.services.badge_payload`); staff accounts through
      `auth.services.ensure_user`: `--stations` volunteers (one per door phone), `--rapporteurs`
      rapporteurs assigned two per morning workshop (`notes.rapporteurs.assign`), `--organisers`
      organisers. Each staff member logs in through the real /login form before the run.
  (b) gunicorn (`--workers` sync workers, default 2 on this 2-core machine) with the app as in
      production: CSRF on, rate limits on at their production values (API_RATE_LIMIT
      "600 per minute" per staff member: every station and rapporteur has its own account).
      The production settings (./gunicorn.conf.py: preloading, hooks, time-outs, logging) apply
      through bench/gunicorn_bench.py; the command line sets the workers, the address and the
      access log (method, path, status, duration) that the figures come from.
  (c) for `--minutes` (5), one asyncio process plays:
      - `--attendees` (800; 160 a minute for a shorter `--minutes`, the same arrival rate) phones
        arriving on a ramp (6 % in the first fifth of the run, most between minute 1 and 4, 12 %
        in the last minute), each: the programme
        `/e/<slug>/` with what the page loads as a phone does on a first visit (stylesheet,
        scripts, the service worker, the manifest, the favicon; each file once: the release's
        files are `immutable`), 5-20 s of reading, their own space `/e/<slug>/me/<token>` (the
        badge QR is inline SVG; attendee.js), then the door queue, then 1-3 more views 10-40 s
        apart: the programme again (If-None-Match: 304 unless the minute changed it), a
        session page, their badge again (2 % download the badge PDF);
      - `--stations` (6) door phones: a scan every 2-4 s each of the next attendee in the door
        queue (nobody waiting: no scan), a new client_id per scan, 3 % of the scans resent with
        the same body (an answer lost on the Wi-Fi: 200 with the original answer), 2 % a person
        scanned again (`already_checked_in`); the check-in kit refreshed every 60 s with its ETag
        (static/js/checkin/engine.js);
      - `--rapporteurs` (8): a note item every 5-15 s each (3 % resent), and the session's list
        polled every 4 s after the previous answer with `?since=<cursor>` and the ETag
        (static/js/notes/sync.js);
      - `--organisers` (2): the arrivals dashboard's fragment `/e/<slug>/admin/arrivals/live`
        every 10 s with its ETag (static/js/live.js);
      - the same-run baseline under the same load: the static stylesheet (`/static/css/app.css`)
        and a 404 page (`/e/pas-un-evenement/`), each once a second.
  (d) checks: zero errors (any answer but 2xx/304, except the 404 baseline and a note edit's
      409, and no client-side failure); every attendee scanned counted exactly once (first scan
      `checked_in`, a later one `already_checked_in`, a resent one the original answer; the
      database holds one counted arrival for each and none for anyone else; the organisers'
      stats say as many arrived); every acknowledged note stored once, as sent.

Two latencies per request: the server time (gunicorn's %(D)s from the access log: the worker
starting the request to the response written, queueing for a free worker excluded) and the client
time (connect to last byte, queueing included). The budget (p95 ≤ 100 ms) is judged on the server
time, as the other benchmarks do; the client p95 is printed next to it. The load generator shares
the 2 cores with the server: its CPU and the event loop's lateness are printed.
"""
from __future__ import annotations

import argparse
import asyncio
import gzip
import html
import itertools
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import (
    SECRET,
    Gunicorn,
    StaffClient,
    machine_busy_seconds,
    percentile,
    run_on_database,
    uses_postgres,
    write_section,
)

BUDGET_P95_MS = 100.0
ATTENDEES_IN_5_MINUTES = 800
PASSWORD = "bench-morning-password"
STATIC_PATH = "/static/css/app.css"
MISSING_PATH = "/e/pas-un-evenement/"
MORNING_WORKSHOPS = ["A1", "A2", "A3", "A4"]
AFTERNOON_WORKSHOPS = ["A5", "A6"]
NOTE_KINDS = ["key_point", "quote", "key_point", "proposal", "quote", "question", "figure", "key_point"]
ARRIVAL_PROFILE = [2, 4, 10, 14, 16, 16, 14, 12, 8, 4]  # % of attendees per tenth of the run
REQUEST_TIMEOUT = 30.0
USER_AGENT = "Mozilla/5.0 (Linux; Android 14) bench-event-morning"

# Request types: (name, method, path pattern with {slug}); the first that matches names a request.
TYPES = [
    ("programme", "GET", r"/e/{slug}/"),
    ("badge page", "GET", r"/e/{slug}/me/[^/]+"),
    ("check-in POST", "POST", r"/api/v1/e/{slug}/checkins"),
    ("kit GET", "GET", r"/api/v1/e/{slug}/checkin-kit"),
    ("note POST", "POST", r"/api/v1/e/{slug}/s/[^/]+/notes"),
    ("note list GET", "GET", r"/api/v1/e/{slug}/s/[^/]+/notes"),
    ("dashboard", "GET", r"/e/{slug}/admin/arrivals/live"),
    ("session page", "GET", r"/e/{slug}/s/[^/]+"),
    ("badge PDF", "GET", r"/e/{slug}/me/[^/]+/badge\.pdf"),
    ("phone's static files", "GET", r"/static/r/.+|/sw\.js|/favicon\.ico|/static/manifest\.webmanifest|/static/img/.+"),
    ("baseline: static CSS", "GET", re.escape(STATIC_PATH)),
    ("baseline: 404 page", "GET", re.escape(MISSING_PATH)),
]
BUDGETED = ["programme", "badge page", "check-in POST", "kit GET", "note POST", "note list GET", "dashboard"]
BASELINES = ["baseline: static CSS", "baseline: 404 page"]


def staff_email(role: str, number: int) -> str:
    return f"{role}{number:02d}@matin.example"


# --------------------------------------------------------------------------- data


@dataclass
class Attendee:
    number: int
    registration_id: int
    token: str
    badge: str


@dataclass
class Staff:
    role: str
    number: int
    email: str
    session: str = ""  # rapporteurs: the session they write in


def build_database(url: str, registrations: int, stations: int, rapporteurs: int, organisers: int, workdir: Path):
    """The demo forum moved to today, `registrations` confirmed ones and the staff; (slug, attendees, staff)."""
    from forum_app import create_app
    from forum_app.auth import services as auth_services
    from forum_app.badges import services as badge_services
    from forum_app.extensions import db
    from forum_app.notes import rapporteurs as rapporteur_services
    from forum_app.programme import imports
    from forum_app.registration import services as registration_services

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "MAIL_BACKEND": "outbox",
        "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
    })
    with app.app_context():
        db.drop_all()  # PostgreSQL: a run starts from an empty database
        db.create_all()
        event = imports.import_schedule_file(app.config["DEMO_DATA"]).event
        slug = event.slug
        # The morning of the forum is today (Paris time): the programme's "now / next", the
        # minute in its ETag and the arrivals dashboard's day are those of a real event day.
        today = datetime.now(ZoneInfo(event.timezone)).date()
        shift = timedelta(days=(today - event.start_date).days)
        event.start_date += shift
        event.end_date += shift
        for moment in ("registration_opens_at", "registration_closes_at"):
            if getattr(event, moment) is not None:
                setattr(event, moment, getattr(event, moment) + shift)
        for session in event.sessions:
            session.starts_at += shift
            session.ends_at += shift
        event.programme_version += 1
        db.session.commit()

        rng = random.Random(6)
        categories = ["collectivite", "etat", "association", "entreprise", "autre"]
        inputs = []
        for i in range(registrations):
            codes = []
            if rng.random() < 0.4:
                codes.append(rng.choice(MORNING_WORKSHOPS))
            if rng.random() < 0.3:
                codes.append(rng.choice(AFTERNOON_WORKSHOPS))
            inputs.append(registration_services.RegistrationInput(
                first_name=f"Prénom{i}", last_name=f"Nom-{i:04d}", email=f"participant{i:04d}@matin.example",
                organisation=f"Organisation {i % 37}", job_title="Chargée de mission",
                category=categories[i % len(categories)], territory=f"Territoire {i % 11}",
                workshop_codes=codes, consent=True,
            ))
        outcomes = registration_services.register_many(event, inputs, notify=False)
        attendees = [
            Attendee(i, o.registration.id, o.registration.access_token, badge_services.badge_payload(o.registration))
            for i, o in enumerate(outcomes)
        ]
        db.session.commit()  # the event's signing key, made by the first badge_payload

        staff: list[Staff] = []
        for n in range(1, stations + 1):
            auth_services.ensure_user(staff_email("porte", n), PASSWORD, name=f"Porte {n}", event=event, role="volunteer")
            staff.append(Staff("volunteer", n, staff_email("porte", n)))
        sessions = {s.code: s for s in event.sessions}
        for n in range(1, rapporteurs + 1):
            code = MORNING_WORKSHOPS[(n - 1) % len(MORNING_WORKSHOPS)]
            user = auth_services.ensure_user(
                staff_email("rapporteur", n), PASSWORD, name=f"Rapporteur·e {n}", event=event, role="rapporteur"
            )
            rapporteur_services.assign(event, user.id, sessions[code].id)
            staff.append(Staff("rapporteur", n, staff_email("rapporteur", n), code))
        for n in range(1, organisers + 1):
            auth_services.ensure_user(
                staff_email("organisation", n), PASSWORD, name=f"Organisation {n}", event=event, role="organiser"
            )
            staff.append(Staff("organiser", n, staff_email("organisation", n)))
        if url.startswith("sqlite"):
            assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
        db.session.remove()
        db.engine.dispose()
    return slug, attendees, staff


def check_database(url: str, slug: str, scanned: set[int], notes_sent: dict[str, dict]) -> dict:
    """What the database holds: counted arrivals per person, the note items of `notes_sent`."""
    from forum_app import create_app
    from forum_app.checkin import domain as checkin_domain
    from forum_app.checkin.models import CheckIn
    from forum_app.extensions import db
    from forum_app.notes.models import NoteItem, NoteRevision
    from forum_app.programme.models import Event, Session

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        event = db.session.scalar(db.select(Event).filter_by(slug=slug))
        counted = dict(db.session.execute(  # arrivals: `checked_in` rows (the door, not undone)
            db.select(CheckIn.registration_id, db.func.count(CheckIn.id))
            .where(CheckIn.event_id == event.id, CheckIn.session_id.is_(None), CheckIn.undone_at.is_(None),
                   CheckIn.outcome == checkin_domain.CHECKED_IN)
            .group_by(CheckIn.registration_id)
        ).all())
        outcomes = dict(db.session.execute(
            db.select(CheckIn.outcome, db.func.count(CheckIn.id)).filter_by(event_id=event.id).group_by(CheckIn.outcome)
        ).all())
        rows = db.session.execute(
            db.select(NoteItem.client_id, NoteItem.kind, NoteItem.text, Session.code, NoteItem.id)
            .join(Session, Session.id == NoteItem.session_id)
            .where(NoteItem.event_id == event.id)
        ).all()
        revisions = db.session.scalar(
            db.select(db.func.count(NoteRevision.id)).join(NoteItem, NoteItem.id == NoteRevision.item_id)
            .where(NoteItem.event_id == event.id)
        )
        db.session.remove()
        db.engine.dispose()
    per_client = Counter(row.client_id for row in rows)
    mismatched = 0
    for row in rows:
        sent = notes_sent.get(row.client_id)
        if sent is None or (row.kind, row.text, row.code, row.id) != (
            sent["body"]["kind"], sent["body"]["text"], sent["code"], sent["id"]
        ):
            mismatched += 1
    return {
        "scanned_counted_once": sum(1 for rid in scanned if counted.get(rid) == 1),
        "counted_not_scanned": sum(1 for rid in counted if rid not in scanned),
        "counted_more_than_once": sum(1 for n in counted.values() if n > 1),
        "checkin_rows": sum(outcomes.values()),
        "outcomes": outcomes,
        "note_items": len(rows),
        "notes_stored_once": sum(1 for cid in notes_sent if per_client.get(cid) == 1),
        "notes_twice": sum(1 for n in per_client.values() if n > 1),
        "notes_mismatched": mismatched,
        "note_revisions": revisions,
    }


# --------------------------------------------------------------------------- HTTP (asyncio)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        data = self.body
        if self.headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        return data.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.text())


@dataclass
class Record:
    kind: str
    status: int  # 0: no answer (connection error, timeout)
    ms: float
    at: float  # seconds since the run started
    problem: str = ""


class Load:
    """Shared state of one run: the clock, what every request gave, the problems seen."""

    def __init__(self, port: int, duration: float):
        self.port = port
        self.duration = duration
        self.start = 0.0
        self.records: list[Record] = []
        self.problems: list[str] = []
        self.lag: list[float] = []

    def now(self) -> float:
        return time.perf_counter() - self.start

    def over(self) -> bool:
        return self.now() >= self.duration

    async def sleep_until(self, at: float) -> None:
        delay = at - self.now()
        if delay > 0:
            await asyncio.sleep(delay)

    async def pause(self, seconds: float) -> bool:
        """Think for `seconds`, or until the morning is over; True while it is not."""
        await asyncio.sleep(max(0.0, min(seconds, self.duration - self.now())))
        return not self.over()

    def problem(self, message: str) -> None:
        if len(self.problems) < 200:
            self.problems.append(message)


class Phone:
    """One device: its cookies, CSRF token and HTTP cache validators; one connection per request
    when the server closes it (gunicorn's sync workers do), kept alive otherwise."""

    def __init__(self, load: Load, cookies: dict[str, str] | None = None, token: str = "",
                 user_agent: str | None = USER_AGENT):
        self.load = load
        self.user_agent = user_agent  # staff: None, as at their login (Flask-Login's session protection)
        self.cookies = dict(cookies or {})
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, kind: str, method: str, path: str, headers: dict | None = None,
                      body: bytes | None = None, expect: tuple[int, ...] = (200,)) -> Answer | None:
        """The answer (None when there was none); recorded under `kind`, a problem unless its
        status is in `expect`."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.load.port}",
                 "Accept-Encoding: gzip, deflate, br", "Accept-Language: fr-FR,fr;q=0.9"]
        if self.user_agent:
            lines.append(f"User-Agent: {self.user_agent}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
        at = self.load.now()
        t0 = time.perf_counter()
        try:
            answer = await asyncio.wait_for(self._exchange(raw, method), REQUEST_TIMEOUT)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
            self._close()
            ms = (time.perf_counter() - t0) * 1000
            self.load.records.append(Record(kind, 0, ms, at, repr(error)))
            self.load.problem(f"{kind}: {method} {path}: no answer ({error!r})")
            return None
        ms = (time.perf_counter() - t0) * 1000
        problem = "" if answer.status in expect else f"HTTP {answer.status}"
        self.load.records.append(Record(kind, answer.status, ms, at, problem))
        if problem:
            self.load.problem(f"{kind}: {method} {_redact(path)}: {answer.status} {answer.body[:200]!r}")
        return answer

    async def _exchange(self, raw: bytes, method: str) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.load.port)
        assert self.reader is not None
        self.writer.write(raw)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
            headers[name] = value
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await self.reader.read()
        if headers.get("connection", "").lower() == "close" or "content-length" not in headers and status not in (204, 304):
            self._close()
        return Answer(status, headers, body)

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    def close(self) -> None:
        self._close()


def _redact(path: str) -> str:
    return re.sub(r"/me/[^/?]+", "/me/<token>", path)


ASSET_RE = re.compile(
    r'<link[^>]+rel="(?:stylesheet|manifest)"[^>]*href="([^"]+)"|<script[^>]+src="([^"]+)"|data-sw="([^"]+)"'
)


def page_files(page: str) -> list[str]:
    """What a browser loads for this page: stylesheet, manifest, scripts, the service worker."""
    return [html.unescape(next(g for g in m.groups() if g)) for m in ASSET_RE.finditer(page)]


# --------------------------------------------------------------------------- the actors


class Morning:
    def __init__(self, load: Load, slug: str, attendees: list[Attendee], args, seed: int = 2026):
        self.load = load
        self.slug = slug
        self.attendees = attendees
        self.args = args
        self.rng = random.Random(seed)
        self.door: asyncio.Queue[Attendee] = asyncio.Queue()
        self.arrived_at: dict[int, float] = {}
        self.first_scans: dict[int, dict] = {}  # registration id -> the answer to its first scan
        self.replays_ok = 0
        self.replays_bad = 0
        self.rescans_ok = 0
        self.rescans_bad = 0
        self.first_not_checked_in = 0
        self.notes_sent: dict[str, dict] = {}  # client_id -> {code, body, id}
        self.note_replays_ok = 0
        self.note_replays_bad = 0
        self.note_creates_bad = 0
        self.polls: Counter[int] = Counter()
        self.kit: Counter[int] = Counter()
        self.dashboard: Counter[int] = Counter()
        self.programme_repeat: Counter[int] = Counter()

    # ---- attendees

    def arrival_times(self) -> list[float]:
        """Each attendee's arrival (seconds into the run): a ramp, most between 20 % and 80 %."""
        duration = self.load.duration
        tenth = duration / len(ARRIVAL_PROFILE)
        times = []
        bins = self.rng.choices(range(len(ARRIVAL_PROFILE)), weights=ARRIVAL_PROFILE, k=len(self.attendees))
        for b in bins:
            times.append((b + self.rng.random()) * tenth)
        return times

    async def attendee(self, person: Attendee, arrival: float, rng: random.Random) -> None:
        load = self.load
        await load.sleep_until(arrival)
        phone = Phone(load)
        cached: set[str] = set()
        etags: dict[str, str] = {}
        try:
            await self.open_page(phone, "programme", f"/e/{self.slug}/", cached, etags)
            if not await load.pause(rng.uniform(5, 20)):
                return
            await self.open_page(phone, "badge page", f"/e/{self.slug}/me/{person.token}", cached, etags)
            self.arrived_at[person.registration_id] = load.now()
            self.door.put_nowait(person)
            if rng.random() < self.args.pdf_share:  # "Télécharger mon badge (PDF)"
                await phone.request("badge PDF", "GET", f"/e/{self.slug}/me/{person.token}/badge.pdf")
            for _ in range(rng.randint(1, 3)):
                if not await load.pause(rng.uniform(10, 40)):
                    return
                pick = rng.random()
                if pick < 0.45:
                    await self.open_page(phone, "programme", f"/e/{self.slug}/", cached, etags)
                elif pick < 0.75:
                    code = rng.choice(["S102", "S103", *MORNING_WORKSHOPS, "S108", *AFTERNOON_WORKSHOPS, "S112"])
                    await self.open_page(phone, "session page", f"/e/{self.slug}/s/{code}", cached, etags)
                else:
                    await self.open_page(phone, "badge page", f"/e/{self.slug}/me/{person.token}", cached, etags)
        finally:
            phone.close()

    async def open_page(self, phone: Phone, kind: str, path: str, cached: set[str], etags: dict[str, str]) -> None:
        """A page as a phone opens it: If-None-Match when it holds a copy, then the files it does not hold."""
        headers = {"Accept": "text/html,application/xhtml+xml"}
        if path in etags:
            headers["If-None-Match"] = etags[path]
        answer = await phone.request(kind, "GET", path, headers=headers, expect=(200, 304))
        if answer is None:
            return
        if kind == "programme" and path in etags:
            self.programme_repeat[answer.status] += 1
        if answer.status != 200:
            return
        if "etag" in answer.headers:
            etags[path] = answer.headers["etag"]
        files = [f for f in page_files(answer.text()) if f not in cached]
        if kind == "programme" and "/favicon.ico" not in cached:
            files.append("/favicon.ico")
        cached.update(files)
        # A browser fetches them in parallel, each on its own connection.
        await asyncio.gather(*(self.fetch_file(path) for path in files))

    async def fetch_file(self, path: str) -> None:
        phone = Phone(self.load)
        try:
            await phone.request("phone's static files", "GET", path, headers={"Accept": "*/*"})
        finally:
            phone.close()

    # ---- door stations

    async def station(self, number: int, phone: Phone, kit_phone: Phone, kit_etag: str) -> None:
        load = self.load
        rng = random.Random(100 + number)
        scanned_here: list[Attendee] = []
        etag = [kit_etag]

        async def refresh_kit() -> None:
            await load.pause(rng.uniform(0, 60))
            while not load.over():
                answer = await kit_phone.request("kit GET", "GET", f"/api/v1/e/{self.slug}/checkin-kit",
                                             headers={"Accept": "application/json", "If-None-Match": etag[0]},
                                             expect=(200, 304))
                if answer is not None:
                    self.kit[answer.status] += 1
                    if answer.status == 200:
                        etag[0] = answer.headers.get("etag", etag[0])
                await load.pause(60)

        kit_task = asyncio.create_task(refresh_kit())
        next_scan = load.now() + rng.uniform(0, 3)
        try:
            while True:
                await load.sleep_until(next_scan)
                if load.over():
                    break
                rescan = bool(scanned_here) and rng.random() < self.args.rescan
                if rescan:
                    person = rng.choice(scanned_here)
                else:
                    try:
                        person = await asyncio.wait_for(self.door.get(), max(0.01, load.duration - load.now()))
                    except TimeoutError:
                        break
                body = json.dumps({
                    "badge": person.badge, "client_id": uuid.uuid4().hex, "station": f"Porte {number}",
                    "scanned_at": datetime.now(UTC).isoformat(),
                }).encode()
                answer = await self.scan(phone, body)
                outcome = (answer or {}).get("outcome")
                if rescan:
                    if outcome == "already_checked_in":
                        self.rescans_ok += 1
                    else:
                        self.rescans_bad += 1
                        load.problem(f"rescan of {person.registration_id}: {outcome}")
                else:
                    scanned_here.append(person)
                    self.first_scans[person.registration_id] = answer or {}
                    if outcome != "checked_in":
                        self.first_not_checked_in += 1
                        load.problem(f"first scan of {person.registration_id}: {answer}")
                if answer is not None and rng.random() < self.args.replay:
                    # The answer was lost on the Wi-Fi: the phone sends the same scan again.
                    again = await self.scan(phone, body, replay=True)
                    if again == answer:
                        self.replays_ok += 1
                    else:
                        self.replays_bad += 1
                        load.problem(f"replayed scan: {again} != {answer}")
                next_scan = load.now() + rng.uniform(2, 4)
        finally:
            kit_task.cancel()

    async def scan(self, phone: Phone, body: bytes, replay: bool = False) -> dict | None:
        answer = await phone.request(
            "check-in POST", "POST", f"/api/v1/e/{self.slug}/checkins", body=body,
            headers={"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": phone.token},
            expect=(200,) if replay else (201,),
        )
        if answer is None or answer.status not in (200, 201):
            return None
        return answer.json()

    # ---- rapporteurs

    async def rapporteur(self, number: int, code: str, phone: Phone, poll_phone: Phone, cursor: str, etag: str,
                         people: list[int], texts: list[str]) -> None:
        load = self.load
        rng = random.Random(200 + number)
        path = f"/api/v1/e/{self.slug}/s/{code}/notes"

        async def poll() -> None:
            nonlocal cursor, etag
            await load.pause(rng.uniform(0, 4))
            while not load.over():
                answer = await poll_phone.request(
                    "note list GET", "GET", f"{path}?since={cursor}",
                    headers={"Accept": "application/json", "If-None-Match": etag}, expect=(200, 304),
                )
                if answer is not None:
                    self.polls[answer.status] += 1
                    if answer.status == 200:
                        cursor = str(answer.json()["cursor"])
                        etag = answer.headers.get("etag", etag)
                await load.pause(4)

        poll_task = asyncio.create_task(poll())
        try:
            await load.pause(rng.uniform(0, 10))
            while not load.over():
                kind = NOTE_KINDS[rng.randrange(len(NOTE_KINDS))]
                body = {"client_id": uuid.uuid4().hex, "kind": kind, "text": rng.choice(texts),
                        "captured_at": datetime.now(UTC).isoformat(), "highlighted": rng.random() < 0.2}
                if kind == "quote" and people:
                    body["attribution"] = {"person_id": rng.choice(people)}
                raw = json.dumps(body).encode()
                headers = {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": phone.token}
                answer = await phone.request("note POST", "POST", path, body=raw, headers=headers, expect=(201,))
                if answer is not None and answer.status == 201:
                    item = answer.json()
                    self.notes_sent[body["client_id"]] = {"code": code, "body": body, "id": item.get("id")}
                    if item.get("client_id") != body["client_id"] or item.get("version") != 1:
                        self.note_creates_bad += 1
                        load.problem(f"note answer {item}")
                    if rng.random() < self.args.replay:
                        again = await phone.request("note POST", "POST", path, body=raw, headers=headers, expect=(200,))
                        if again is not None and again.status == 200 and again.json().get("id") == item.get("id"):
                            self.note_replays_ok += 1
                        else:
                            self.note_replays_bad += 1
                await load.pause(rng.uniform(5, 15))
        finally:
            poll_task.cancel()

    # ---- organisers

    async def organiser(self, number: int, phone: Phone, live_url: str, etag: str) -> None:
        load = self.load
        await load.pause(random.Random(300 + number).uniform(0, 10))
        while not load.over():
            answer = await phone.request("dashboard", "GET", live_url,
                                         headers={"Accept": "text/html", "If-None-Match": etag}, expect=(200, 304))
            if answer is not None:
                self.dashboard[answer.status] += 1
                if answer.status == 200:
                    etag = answer.headers.get("etag", etag)
            await load.pause(10)

    # ---- the baseline, under the same load

    async def baseline(self, kind: str, path: str, status: int, offset: float) -> None:
        load = self.load
        phone = Phone(load)
        k = 0
        while True:
            await load.sleep_until(offset + k)
            if load.over():
                break
            await phone.request(kind, "GET", path, headers={"Accept": "*/*"}, expect=(status,))
            k += 1
        phone.close()

    async def watch_loop(self) -> None:
        """How late the event loop wakes up: above a few ms, client times include the loader's own delay."""
        while not self.load.over():
            t0 = time.perf_counter()
            await asyncio.sleep(0.1)
            self.load.lag.append((time.perf_counter() - t0 - 0.1) * 1000)


# --------------------------------------------------------------------------- set-up of the staff phones


def staff_phones(port: int, slug: str, staff: list[Staff]):
    """Every staff member logs in through /login and opens their page, as before the doors open.
    Returns (stations [(number, cookies, token, kit etag)], rapporteurs [...], organisers [...])."""
    stations, rapporteurs, organisers = [], [], []
    for member in staff:
        client = StaffClient(port)
        client.log_in(member.email, PASSWORD)
        if member.role == "volunteer":
            status, _ = client.send("GET", f"/e/{slug}/checkin")
            if status != 200:
                raise RuntimeError(f"station page answered {status}")
            status, data = client.send("GET", f"/api/v1/e/{slug}/checkin-kit", headers={"Accept": "application/json"})
            kit = json.loads(data)
            stations.append((member.number, dict(client.cookies), client.token, f'"{kit["version"]}"'))
        elif member.role == "rapporteur":
            status, _ = client.send("GET", f"/e/{slug}/notes/{member.session}")
            if status != 200:
                raise RuntimeError(f"capture page answered {status}")
            client.connection.request("GET", f"/api/v1/e/{slug}/s/{member.session}/notes",
                                      headers={"Accept": "application/json", "Cookie": _cookie(client.cookies)})
            response = client.connection.getresponse()
            data = json.loads(response.read())
            etag = response.getheader("ETag") or ""
            client.connection.close()
            people = [p["id"] for p in data["session"]["people"]]
            rapporteurs.append((member.number, member.session, dict(client.cookies), client.token,
                                str(data["cursor"]), etag, people))
        else:
            status, data = client.send("GET", f"/e/{slug}/admin/arrivals", headers={"Accept": "text/html"})
            if status != 200:
                raise RuntimeError(f"arrivals page answered {status}")
            page = data.decode()
            live_url = html.unescape(re.search(r'data-live-url="([^"]+)"', page).group(1))
            etag = html.unescape(re.search(r'data-live-etag="([^"]+)"', page).group(1))
            organisers.append((member.number, dict(client.cookies), live_url, etag))
        client.close()
    return stations, rapporteurs, organisers


def _cookie(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def final_stats(port: int, slug: str, cookies: dict[str, str]) -> dict:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", f"/api/v1/e/{slug}/stats", headers={"Accept": "application/json", "Cookie": _cookie(cookies)})
    response = connection.getresponse()
    data = json.loads(response.read())
    connection.close()
    return data


def note_texts() -> list[str]:
    from forum_app.notes import demo

    return [entry["text"] for entry in demo.read_items()]


# --------------------------------------------------------------------------- profiles


def profile_types(url: str, slug: str, kinds: list[str], attendees: list[Attendee], staff: list[Staff],
                  scanned: set[int], repeat: int = 10) -> str:
    """Where the time of each request type in `kinds` goes: `repeat` requests in-process (Flask test
    client, cProfile), on the run's final database, as the right person; the top functions."""
    import cProfile
    import io
    import pstats
    import statistics

    from forum_app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "REQUEST_LOG_LEVEL": "WARNING"})
    clients = {}
    roles = {"volunteer": "porte", "rapporteur": "rapporteur", "organiser": "organisation"}

    def client(role: str):
        if role not in clients:
            clients[role] = app.test_client()
            if role != "anonymous":
                answer = clients[role].post("/login", data={"email": staff_email(roles[role], 1), "password": PASSWORD,
                                                            "next": ""})
                if answer.status_code != 302:
                    raise RuntimeError(f"in-process login of a {role}: {answer.status_code}")
        return clients[role]

    rapporteur = next((m for m in staff if m.role == "rapporteur"), None)
    waiting = iter([a for a in attendees if a.registration_id not in scanned])
    texts = note_texts()

    def request(kind: str, i: int):
        person = attendees[i % len(attendees)]
        headers = {"Accept-Encoding": "gzip", "Accept-Language": "fr-FR,fr;q=0.9"}
        if kind == "programme":
            return client("anonymous").get(f"/e/{slug}/", headers=headers)
        if kind == "badge page":
            return client("anonymous").get(f"/e/{slug}/me/{person.token}", headers=headers)
        if kind == "session page":
            return client("anonymous").get(f"/e/{slug}/s/{MORNING_WORKSHOPS[i % 4]}", headers=headers)
        if kind == "check-in POST":
            badge = next(waiting).badge
            return client("volunteer").post(f"/api/v1/e/{slug}/checkins", headers=headers, json={
                "badge": badge, "client_id": uuid.uuid4().hex, "station": "Profil",
                "scanned_at": datetime.now(UTC).isoformat()})
        if kind == "kit GET":
            return client("volunteer").get(f"/api/v1/e/{slug}/checkin-kit", headers=headers)
        if kind == "note POST" and rapporteur:
            return client("rapporteur").post(f"/api/v1/e/{slug}/s/{rapporteur.session}/notes", headers=headers, json={
                "client_id": uuid.uuid4().hex, "kind": "key_point", "text": texts[i % len(texts)],
                "captured_at": datetime.now(UTC).isoformat()})
        if kind == "note list GET" and rapporteur:
            return client("rapporteur").get(f"/api/v1/e/{slug}/s/{rapporteur.session}/notes?since=0", headers=headers)
        if kind == "dashboard":
            return client("organiser").get(f"/e/{slug}/admin/arrivals/live", headers=headers)
        return None

    out = []
    for kind in kinds:
        if request(kind, 0) is None:  # also warms the worker up
            continue
        times = []
        profiler = cProfile.Profile()
        for i in range(1, repeat + 1):
            t0 = time.perf_counter()
            profiler.enable()
            answer = request(kind, i)
            profiler.disable()
            times.append((time.perf_counter() - t0) * 1000)
        plain = []
        for i in range(repeat + 1, 2 * repeat + 1):
            t0 = time.perf_counter()
            request(kind, i)
            plain.append((time.perf_counter() - t0) * 1000)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(60)
        skip = ("werkzeug/test.py", "flask/testing.py", "flask/app.py", "{built-in method builtins.exec}")
        table = [line for line in text.getvalue().splitlines()
                 if re.match(r"\s*\d", line) and not any(s in line for s in skip)]
        out += [
            (f"### Profile: {kind} (in-process, {repeat} requests, status {answer.status_code}, "
             f"{len(answer.data)} bytes; {statistics.median(plain):.1f} ms median without the profiler, "
             f"{statistics.median(times):.1f} ms with it)"),
            "",
            "```",
            "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)",
            *[line.replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/", "")[:170] for line in table[:30]],
            "```",
            "",
        ]
    return "\n".join(out)


# --------------------------------------------------------------------------- the run


async def play(load: Load, morning: Morning, stations, rapporteurs, organisers, texts, sampler) -> None:
    rng = random.Random(7)
    tasks = []
    load.start = time.perf_counter() + 0.2
    sampler.start(load)
    for person, arrival in zip(morning.attendees, morning.arrival_times()):
        tasks.append(asyncio.create_task(morning.attendee(person, arrival, random.Random(rng.random()))))
    for number, cookies, token, kit_etag in stations:
        tasks.append(asyncio.create_task(
            morning.station(number, Phone(load, cookies, token, None), Phone(load, cookies, token, None), kit_etag)
        ))
    for number, code, cookies, token, cursor, etag, people in rapporteurs:
        tasks.append(asyncio.create_task(morning.rapporteur(
            number, code, Phone(load, cookies, token, None), Phone(load, cookies, token, None), cursor, etag, people,
            texts,
        )))
    for number, cookies, live_url, etag in organisers:
        tasks.append(asyncio.create_task(morning.organiser(number, Phone(load, cookies, "", None), live_url, etag)))
    tasks.append(asyncio.create_task(morning.baseline("baseline: static CSS", STATIC_PATH, 200, 0.25)))
    tasks.append(asyncio.create_task(morning.baseline("baseline: 404 page", MISSING_PATH, 404, 0.75)))
    tasks.append(asyncio.create_task(morning.watch_loop()))
    ticker = asyncio.create_task(sampler.run(load))
    # Bounded: whatever is still out when the time is up gets REQUEST_TIMEOUT to answer.
    done, pending = await asyncio.wait(tasks, timeout=load.duration + 60 + REQUEST_TIMEOUT)
    for task in pending:
        task.cancel()
    ticker.cancel()
    for task in done:
        if task.exception() is not None:
            load.problem(f"actor failed: {task.exception()!r}")
    sampler.sample(load)


def tree_cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of a process and its children (a PostgreSQL server and its backends)."""
    if pid is None:
        return 0.0
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for one in [pid, *map(int, children)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pid(pg_dir: str | None) -> int | None:
    """The postmaster of scripts/postgres-local.sh's server in `pg_dir` (first line of postmaster.pid)."""
    if not pg_dir:
        return None
    try:
        return int(Path(pg_dir, "data", "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Sampler:
    """CPU of the server (gunicorn), of the database server (PostgreSQL), of this process and of
    the whole machine, every 10 s: rows of (t, gunicorn, database, load generator, machine busy)."""

    def __init__(self, server: Gunicorn, db_pid: int | None):
        self.server = server
        self.db_pid = db_pid
        self.samples: list[tuple[float, float, float, float, float]] = []

    def sample(self, load: Load, at: float | None = None) -> None:
        self.samples.append((load.now() if at is None else at, self.server.cpu_seconds(), tree_cpu_seconds(self.db_pid),
                             time.process_time(), machine_busy_seconds()))

    def start(self, load: Load) -> None:
        self.samples = []
        self.sample(load, 0.0)

    async def run(self, load: Load) -> None:
        k = 1
        while True:
            await load.sleep_until(10 * k)
            self.sample(load)
            k += 1


def classify(slug: str):
    compiled = [(name, method, re.compile(pattern.format(slug=re.escape(slug)))) for name, method, pattern in TYPES]

    def kind_of(method: str, path: str) -> str | None:
        for name, m, pattern in compiled:
            if m == method and pattern.fullmatch(path):
                return name
        return None

    return kind_of


def server_lines(server: Gunicorn, since: int, slug: str) -> dict[str, list[tuple[int, float]]]:
    kind_of = classify(slug)
    lines = server.access_log.read_text().splitlines() if server.access_log.exists() else []
    found: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for line in lines[since:]:
        parts = line.split()
        if len(parts) != 4:
            continue
        kind = kind_of(parts[0], parts[1]) or f"other: {parts[0]} {_redact(parts[1])}"
        found[kind].append((int(parts[2]), int(parts[3]) / 1000))
    return found


def run(args) -> tuple[str, list[str], str]:
    missed: list[str] = []
    loadavg = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    duration = args.minutes * 60
    conf = ROOT / "gunicorn.conf.py"
    with tempfile.TemporaryDirectory(prefix="bench-morning-") as tmp:
        workdir = Path(tmp)
        url = args.database_url or f"sqlite:///{workdir / 'forum.db'}"
        started = time.perf_counter()
        slug, attendees, staff = build_database(
            url, args.registrations, args.stations, args.rapporteurs, args.organisers, workdir
        )
        setup_seconds = time.perf_counter() - started
        random.Random(1).shuffle(attendees)
        coming = attendees[: args.attendees]
        os.environ["API_RATE_LIMIT"] = args.api_rate_limit  # the production value unless told otherwise
        server = Gunicorn(url, workdir, args.workers)
        try:
            server.wait_ready("/login")
            stations, rapporteurs, organisers = staff_phones(server.port, slug, staff)
            warm = StaffClient(server.port)
            for _ in range(args.workers * 4):  # imports, templates, statements: outside the figures
                warm.get(f"/e/{slug}/")
                warm.get(STATIC_PATH)
                warm.get(MISSING_PATH)
                warm.get(f"/e/{slug}/me/{attendees[-1].token}")
            for _ in range(args.workers):
                warm.get(f"/e/{slug}/me/{attendees[-1].token}/badge.pdf")  # WeasyPrint's fonts
            warm.close()
            time.sleep(0.5)
            mark = server.access_lines()
            load = Load(server.port, duration)
            morning = Morning(load, slug, coming, args)
            sampler = Sampler(server, postgres_pid(args.pg_dir))
            own_before = time.process_time()
            asyncio.run(play(load, morning, stations, rapporteurs, organisers, note_texts(), sampler))
            run_seconds = load.now()
            own_used = time.process_time() - own_before
            time.sleep(0.5)
            found = server_lines(server, mark, slug)
            stats = final_stats(server.port, slug, organisers[0][1]) if organisers else {}
            worker_count = len(server.worker_pids())
        finally:
            server.stop()
        server_errors = [line for line in server.output().splitlines() if "Error" in line or "Traceback" in line]
        scanned = set(morning.first_scans)
        stored = check_database(url, slug, scanned, morning.notes_sent)
        profiles = ""
        if args.profile:
            slow = [kind for kind in BUDGETED
                    if not percentile([ms for _, ms in found.get(kind, [])], 95) <= BUDGET_P95_MS]
            profiles = profile_types(url, slug, slow, coming, staff, scanned) if slow else "Nothing to profile."

    # ---- figures per request type
    client: dict[str, list[Record]] = defaultdict(list)
    for record in load.records:
        client[record.kind].append(record)
    static_s50 = percentile([ms for _, ms in found.get(BASELINES[0], [])], 50)
    static_c50 = percentile([r.ms for r in client.get(BASELINES[0], [])], 50)
    kinds = [k for k in BUDGETED] + [k for k in ("session page", "badge PDF", "phone's static files") if k in found or k in client]
    kinds += BASELINES + sorted(k for k in found if k.startswith("other"))
    rows = []
    total_errors = 0
    for kind in kinds:
        server_times = [ms for _, ms in found.get(kind, [])]
        statuses = Counter(s for s, _ in found.get(kind, []))
        records = client.get(kind, [])
        if kind == BASELINES[1]:
            server_bad = sum(n for s, n in statuses.items() if s != 404)
        else:  # 2xx and 304; a 409 is a note edit's expected conflict
            server_bad = sum(n for s, n in statuses.items() if not (200 <= s < 300 or s == 304 or s == 409))
        client_failed = sum(1 for r in records if r.status == 0)
        errors = server_bad + client_failed
        total_errors += errors
        s50, s95, s99 = (percentile(server_times, p) for p in (50, 95, 99))
        c = [r.ms for r in records]
        c50, c95, c99 = (percentile(c, p) for p in (50, 95, 99))
        budget = ""
        if kind in BUDGETED:
            budget = f"p95 ≤ {BUDGET_P95_MS:.0f} ms: {'ok' if s95 <= BUDGET_P95_MS else 'MISSED'}"
            if not s95 <= BUDGET_P95_MS:
                missed.append(f"{kind}: p95 server time {s95:.1f} ms > {BUDGET_P95_MS:.0f} ms")
            if not server_times:
                missed.append(f"{kind}: no request")
        mix = ", ".join(f"{n}×{s}" for s, n in sorted(statuses.items()))
        rows.append(
            f"| {kind} | {len(server_times)} | {mix} | {errors} | {len(server_times) / run_seconds:.1f} "
            f"| {s50:.1f} | {s95:.1f} | {s99:.1f} | {s50 / static_s50:.1f} "
            f"| {c50:.1f} | {c95:.1f} | {c99:.1f} | {c50 / static_c50:.1f} | {budget} |"
        )
    all_server = [ms for kind in kinds for _, ms in found.get(kind, [])]
    requests = len(all_server)

    # ---- CPU, per 10 s and in all
    samples = sampler.samples
    timeline = []
    per_minute: dict[int, dict] = defaultdict(lambda: {"n": 0, "span": 0.0, "server": 0.0, "db": 0.0, "own": 0.0,
                                                       "other": 0.0, "ms": []})
    arrivals_by_minute = Counter(int(t // 60) for t in morning.arrived_at.values())
    for (t0, s0, d0, o0, m0), (t1, s1, d1, o1, m1) in itertools.pairwise(samples):
        entry = per_minute[int(t0 // 60)]
        entry["span"] += t1 - t0
        entry["server"] += s1 - s0
        entry["db"] += d1 - d0
        entry["own"] += o1 - o0
        entry["other"] += max(m1 - m0 - (s1 - s0) - (d1 - d0) - (o1 - o0), 0.0)
    for record in load.records:
        per_minute[int(record.at // 60)]["n"] += 1
        per_minute[int(record.at // 60)]["ms"].append(record.ms)
    postgres = sampler.db_pid is not None
    for minute in sorted(per_minute):
        e = per_minute[minute]
        if e["span"] <= 0 or not e["n"]:  # the last sample, after the end
            continue
        database = f"{e['db'] / e['span']:.2f}" if postgres else "(in the workers)"
        timeline.append(
            f"| {minute}–{minute + 1} | {arrivals_by_minute.get(minute, 0)} | {e['n']} | {e['n'] / e['span']:.1f} "
            f"| {e['server'] / e['span']:.2f} | {database} | {e['own'] / e['span']:.2f} | {e['other'] / e['span']:.2f} "
            f"| {percentile(e['ms'], 95):.1f} |"
        )
    first_sample, last_sample = samples[0], samples[-1]
    span_total = last_sample[0] - first_sample[0]
    server_cpu_total = last_sample[1] - first_sample[1]
    db_total = last_sample[2] - first_sample[2]
    own_total = last_sample[3] - first_sample[3]
    other_total = max((last_sample[4] - first_sample[4]) - server_cpu_total - db_total - own_total, 0.0)

    # ---- correctness
    replays = morning.replays_ok + morning.replays_bad
    rescans = morning.rescans_ok + morning.rescans_bad
    first = len(morning.first_scans)
    arrived_stat = stats.get("arrived")
    checks = [
        ("attendees who reached the door / were scanned", f"{len(morning.arrived_at)} / {first}", "scanned ≤ reached"),
        ("first scans answered `checked_in`", first - morning.first_not_checked_in, first),
        ("scans of someone already in answered `already_checked_in`", f"{morning.rescans_ok} of {rescans}",
         f"{rescans} of {rescans}"),
        ("scans resent (same client_id) answered 200 with the original answer", f"{morning.replays_ok} of {replays}",
         f"{replays} of {replays}"),
        ("people scanned with exactly one counted arrival (database)", stored["scanned_counted_once"], first),
        ("counted arrivals of people never scanned, or counted twice (database)",
         f"{stored['counted_not_scanned']}, {stored['counted_more_than_once']}", "0, 0"),
        ("check-in rows (database) = scans with a new client_id", stored["checkin_rows"], first + rescans),
        ("arrivals on the organisers' stats (`GET /api/v1/e/<slug>/stats`)", arrived_stat, first),
        ("notes acknowledged (201) / stored exactly once, as sent",
         f"{len(morning.notes_sent)} / {stored['notes_stored_once']}", f"{len(morning.notes_sent)} / {len(morning.notes_sent)}"),
        ("note items in the database / stored twice / not as sent",
         f"{stored['note_items']} / {stored['notes_twice']} / {stored['notes_mismatched']}",
         f"{len(morning.notes_sent)} / 0 / 0"),
        ("note answers (201) not naming the item sent (client_id, version 1)", morning.note_creates_bad, 0),
        ("note revisions (one per item: resends write nothing)", stored["note_revisions"], len(morning.notes_sent)),
        ("notes resent answered 200 with the original id",
         f"{morning.note_replays_ok} of {morning.note_replays_ok + morning.note_replays_bad}",
         f"{morning.note_replays_ok + morning.note_replays_bad} of {morning.note_replays_ok + morning.note_replays_bad}"),
        ("errors (non-2xx/304 answers but the 404 baseline; no answer)", total_errors, 0),
        ("server errors logged", len(server_errors), 0),
    ]
    for name, got, want in checks[1:]:
        if got != want:
            missed.append(f"{name}: {got} (expected {want})")
    if first > len(morning.arrived_at):
        missed.append("more people scanned than reached the door")

    lag95 = percentile(load.lag, 95)
    lag_max = max(load.lag, default=float("nan"))
    db_label = database_label(args)
    conf_note = (
        "the production settings of ./gunicorn.conf.py through bench/gunicorn_bench.py, workers, address and "
        "access log from the command line" if conf.exists() else "no ./gunicorn.conf.py: bench/harness.py's command line"
    )
    lines = [
        (
            f"Run on {datetime.now().strftime('%Y-%m-%d %H:%M')} — machine: nproc {os.cpu_count()}, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
            f"load average at start {loadavg}."
        ),
        "",
        "```",
        f".venv/bin/python bench/event_morning.py {' '.join(sys.argv[1:])}".rstrip(),
        "```",
        "",
        (
            f"gunicorn {args.workers} sync workers ({worker_count} running at the end; {conf_note}) on 127.0.0.1, "
            f"{db_label}, CSRF and rate limits on (API {args.api_rate_limit} per staff member). "
            f"{args.registrations} confirmed registrations made through `register_many` ({setup_seconds:.0f} s with "
            f"the staff accounts). For {args.minutes:g} min: {len(coming)} attendees' phones arriving on a ramp "
            f"(programme + its files, their badge page, the door queue, 1-3 more views 10-40 s apart); "
            f"{args.stations} door stations (a scan every 2-4 s, {args.replay:.0%} resent, {args.rescan:.0%} "
            f"rescans, kit every 60 s with ETag); {args.rapporteurs} rapporteurs (a note every 5-15 s, "
            f"{args.replay:.0%} resent; list every 4 s with `since` + ETag); {args.organisers} organisers "
            f"(dashboard fragment every 10 s with ETag); baseline once a second each. One asyncio process "
            f"plays them all on the same {os.cpu_count()} cores as the server."
        ),
        "",
        "| check | result | expected |",
        "|---|---|---|",
        *[f"| {name} | {got} | {want} |" for name, got, want in checks],
        "",
        ("Server = gunicorn's duration (access log); client = connect to last byte, queueing for a worker included; "
         "ms; × static = p50 over the static CSS's p50 in the same run."),
        "",
        ("| request | n | statuses | errors | per second | server p50 | server p95 | server p99 | × static "
         "| client p50 | client p95 | client p99 | × static (client) | budget (server) |"),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        ("| minute | attendees reaching the door | requests | requests/s | gunicorn CPU (cores) | PostgreSQL CPU (cores) "
         "| load generator (cores) | other processes (cores) | client p95 (ms) |"),
        "|---|---|---|---|---|---|---|---|---|",
        *timeline,
        "",
        (
            f"{requests} requests in {run_seconds:.0f} s ({requests / run_seconds:.1f}/s on average). gunicorn CPU "
            f"{server_cpu_total:.1f} s ({server_cpu_total / span_total:.2f} core on average, "
            f"{server_cpu_total * 1000 / max(requests, 1):.2f} ms per request)"
            + (f", PostgreSQL {db_total:.1f} s ({db_total / span_total:.2f} core, "
               f"{db_total * 1000 / max(requests, 1):.2f} ms per request)" if postgres else "")
            + "; the load generator "
            f"{own_total:.1f} s ({own_total / span_total:.2f} core, {own_used * 1000 / max(requests, 1):.2f} ms per "
            f"request); other processes on the machine {other_total / span_total:.2f} core (/proc/stat). "
            f"Event-loop lateness p95 {lag95:.1f} ms, worst {lag_max:.0f} ms (what the client times may carry of the "
            f"loader's own delay). Programme revisits with If-None-Match: "
            f"{', '.join(f'{n}×{s}' for s, n in sorted(morning.programme_repeat.items())) or 'none'}; kit refreshes: "
            f"{', '.join(f'{n}×{s}' for s, n in sorted(morning.kit.items())) or 'none'}; note-list polls: "
            f"{', '.join(f'{n}×{s}' for s, n in sorted(morning.polls.items())) or 'none'}; dashboard polls: "
            f"{', '.join(f'{n}×{s}' for s, n in sorted(morning.dashboard.items())) or 'none'}."
        ),
        "",
        f"Verdict: {'all checks and budgets met' if not missed else 'MISSED — ' + '; '.join(missed)}.",
    ]
    first_errors = load.problems[:8] + server_errors[:5]
    if first_errors:
        lines += ["", "First problems:", "", *[f"- `{e[:300]}`" for e in first_errors]]
    return "\n".join(lines), missed, profiles


def database_label(args) -> str:
    if args.database_url and not args.database_url.startswith("sqlite"):
        return "PostgreSQL (local server, scripts/postgres-local.sh)"
    return "SQLite file in WAL mode"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5, help="length of the morning (default 5)")
    parser.add_argument("--registrations", type=int, default=1000, help="confirmed registrations (default 1000)")
    parser.add_argument("--attendees", type=int,
                        help="attendees who come with their phone (default 800 over 5 minutes, the same rate for "
                             "another --minutes: 160 for --minutes 1)")
    parser.add_argument("--stations", type=int, default=6, help="door stations (default 6)")
    parser.add_argument("--rapporteurs", type=int, default=8, help="rapporteurs, two per morning workshop (default 8)")
    parser.add_argument("--organisers", type=int, default=2, help="organisers watching arrivals (default 2)")
    parser.add_argument("--replay", type=float, default=0.03, help="share of scans and notes resent (default 0.03)")
    parser.add_argument("--rescan", type=float, default=0.02, help="share of scans of someone already in (default 0.02)")
    parser.add_argument("--pdf-share", type=float, default=0.02,
                        help="share of attendees who download their badge PDF (default 0.02)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--api-rate-limit", default="600 per minute", help="API_RATE_LIMIT (default: production's)")
    parser.add_argument("--postgres", action="store_true",
                        help="run against a throwaway local PostgreSQL server (scripts/postgres-local.sh), not SQLite")
    parser.add_argument("--database-url", help="run against this database instead (its tables are DROPPED first)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a check or a budget is missed")
    parser.add_argument("--write-results", action="store_true", help="replace this benchmark's section of RESULTS.md")
    parser.add_argument("--profile", action="store_true",
                        help="after the run, profile each request type over its budget in-process (cProfile, on the "
                             "run's database) and print where its time goes")
    args = parser.parse_args(argv)
    args.pg_dir = None  # set when this script starts its own PostgreSQL server (its CPU is then measured)
    if args.attendees is None:
        args.attendees = min(args.registrations, round(ATTENDEES_IN_5_MINUTES * args.minutes / 5))
    if not 0.25 <= args.minutes <= 15 or not 1 <= args.attendees <= args.registrations <= 5000:
        parser.error("--minutes must be 0.25..15 and 1 <= --attendees <= --registrations <= 5000 (bounded run)")
    if not 0 <= args.stations <= 50 or not 0 <= args.rapporteurs <= 50 or not 0 <= args.organisers <= 10:
        parser.error("--stations 0..50, --rapporteurs 0..50, --organisers 0..10")
    if not 0 <= args.replay <= 0.5 or not 0 <= args.rescan <= 0.5 or not 0 <= args.pdf_share <= 0.25:
        parser.error("--replay and --rescan 0..0.5, --pdf-share 0..0.25")
    report, missed, profiles = run_on_database(args, run)
    print(report)
    if profiles:
        print("\n" + profiles)
    if args.write_results:
        postgres = uses_postgres(args)
        database = "PostgreSQL" if postgres else "SQLite"
        write_section(
            "bench/event_morning.py --postgres" if postgres else "bench/event_morning.py",
            f"## Event morning ({database}): {args.attendees} attendees, {args.stations} door stations, "
            f"{args.rapporteurs} rapporteurs, {args.organisers} organisers for {args.minutes:g} min",
            report,
        )
        print(f"\nWrote {ROOT / 'bench' / 'RESULTS.md'}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
