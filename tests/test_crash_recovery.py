"""A crash in the middle of a burst (issue 6, "Faults"): the server is killed with SIGKILL — the
gunicorn master and its workers, the whole process group, no chance to finish anything — while
door stations and rapporteurs are posting check-ins and notes; it is restarted on the same
database, and every write it had acknowledged is there exactly once, nothing is half-written, and
the requests that got no answer, sent again with their client_id as the offline queues do, land
exactly once.

The server is the real thing: gunicorn with 2 sync workers and the production settings
(bench/harness.py's Gunicorn and StaffClient, shared with the benchmarks: login through the real
form, CSRF header), on 127.0.0.1, on a database of the run's kind (a SQLite file in WAL mode, or
a PostgreSQL database of its own when TEST_DATABASE_URL is set). The kill comes after a fixed
number of acknowledged writes, not after a sleep, while the other threads' requests are in flight.

Why nothing acknowledged can be lost to a killed process: a request is acknowledged only after
its transaction committed. SQLite: the commit has written the WAL (journal_mode=WAL) before it
returns; the file is in the operating system's cache at least, which a killed process does not
take with it, and the next connection replays the WAL. The app sets `synchronous=FULL`
(forum_app/db.py configure_sqlite; SQLite's default, made explicit): the WAL is also fsync'ed at
every commit, so acknowledged writes survive a power loss too. With `synchronous=NORMAL` a power
loss (not a process kill) could lose the last transactions, never corrupt the file.
PostgreSQL: a commit returns once its WAL record is flushed (fsync on, synchronous_commit on:
scripts/postgres-local.sh starts the server with `-c fsync=on`); the backend of a killed client
rolls back what was not committed.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import Gunicorn, StaffClient  # shared with the benchmarks
from forum_app import create_app
from forum_app.auth import services as auth_services
from forum_app.badges import services as badges
from forum_app.checkin.models import CheckIn
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.notes.models import (
    NoteItem,
    NoteRevision,
    NoteStream,
    RapporteurAssignment,
)
from forum_app.programme import imports
from forum_app.programme.models import Session
from forum_app.registration import services as registration
from forum_app.registration.services import RegistrationInput
from tests.databases import ON_POSTGRESQL, drop_database, file_database_url

DEMO_JSON = Path(__file__).resolve().parent.parent / "forum_app" / "demo_data" / "citescap-programme.json"
PASSWORD = "panne-de-courant-2019"
ORGANISER = "organisation@crash.example"
RAPPORTEUR = "rapporteur@crash.example"
PEOPLE = 40
NOTE_SESSIONS = ("A1", "A2", "A3")
STATIONS = 3  # threads scanning badges (as the organiser)
WRITERS = 3  # threads posting notes (as the rapporteur), one per session
PER_THREAD = 60  # requests each thread has ready to send
KILL_AFTER = 60  # acknowledged writes before the SIGKILL


@dataclass
class Forum:
    url: str
    slug: str
    badges: list[str]


def build_forum(url: str) -> Forum:
    """The demo forum, PEOPLE confirmed registrations with badges, an organiser and a rapporteur
    of NOTE_SESSIONS, made through the real services before the server starts."""
    app = create_app(type("CrashSetup", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        db.create_all()
        event = imports.import_schedule_file(DEMO_JSON).event
        auth_services.ensure_user(ORGANISER, PASSWORD, name="Organisatrice", event=event, role="organiser")
        rapporteur = auth_services.ensure_user(RAPPORTEUR, PASSWORD, name="Rapporteur", event=event, role="rapporteur")
        for code in NOTE_SESSIONS:
            session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))
            db.session.add(RapporteurAssignment(user_id=rapporteur.id, session_id=session.id))
        db.session.commit()
        people = [
            RegistrationInput(first_name=f"Prénom{i}", last_name=f"Panne{i}", email=f"panne{i}@crash.example",
                              organisation="Ville", category="collectivite", consent=True)
            for i in range(PEOPLE)
        ]
        outcomes = registration.register_many(event, people, source="import", notify=False)
        assert all(outcome.registration.status == "confirmed" for outcome in outcomes)
        texts = [badges.badge_payload(outcome.registration) for outcome in outcomes]
        db.session.commit()  # the event's signing key, made with the first badge
        forum = Forum(url, event.slug, texts)
        db.session.remove()
        db.engine.dispose()
    return forum


@dataclass
class Request:
    client_id: str
    path: str
    body: bytes
    kind: str  # "checkin" or "note"


@dataclass
class Burst:
    acknowledged: dict[str, tuple[Request, int, dict]] = field(default_factory=dict)
    unanswered: dict[str, Request] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)
    killed: threading.Event = field(default_factory=threading.Event)


def plans(forum: Forum) -> list[tuple[str, list[Request]]]:
    """Each thread's requests: (who logs in, requests), every one with its own client_id."""
    now = datetime.now(UTC).isoformat()
    result = []
    for station in range(STATIONS):
        order = list(range(PEOPLE))
        random.Random(station).shuffle(order)  # overlapping scans: first arrivals and repeats
        requests = []
        for n in range(PER_THREAD):
            client_id = f"crash-scan-{station}-{n}-{uuid.uuid4().hex[:8]}"
            body = {"badge": forum.badges[order[n % PEOPLE]], "client_id": client_id,
                    "station": f"Porte {station + 1}", "scanned_at": now}
            requests.append(Request(client_id, f"/api/v1/e/{forum.slug}/checkins", json.dumps(body).encode(), "checkin"))
        result.append((ORGANISER, requests))
    for writer, code in zip(range(WRITERS), NOTE_SESSIONS, strict=True):
        requests = []
        for n in range(PER_THREAD):
            client_id = uuid.uuid4().hex
            body = {"client_id": client_id, "kind": "key_point", "captured_at": now,
                    "text": f"Point {n} de la salle {code} : le foncier d'activité manque."}
            requests.append(Request(client_id, f"/api/v1/e/{forum.slug}/s/{code}/notes", json.dumps(body).encode(), "note"))
        result.append((RAPPORTEUR, requests))
    return result


def post(client: StaffClient, request: Request) -> tuple[int, bytes]:
    return client.send("POST", request.path, body=request.body,
                       headers={"Content-Type": "application/json", "X-CSRFToken": client.token})


def send_until_killed(client: StaffClient, requests: list[Request], burst: Burst) -> None:
    for request in requests:
        if burst.killed.is_set():
            return
        try:
            status, data = post(client, request)
        except (OSError, http.client.HTTPException):  # the server died under it: no answer
            with burst.lock:
                burst.unanswered[request.client_id] = request
            continue
        with burst.lock:
            if status in (200, 201):
                burst.acknowledged[request.client_id] = (request, status, json.loads(data))
                if len(burst.acknowledged) >= KILL_AFTER:
                    burst.enough.set()
            elif status == 503:  # busy: the queues keep it and send it again, as for no answer
                burst.unanswered[request.client_id] = request
            else:
                burst.refused.append(f"{request.kind} {status} {data[:200]!r}")


def kill_process_group(server: Gunicorn) -> None:
    """SIGKILL to gunicorn's master and its workers (its own process group), and wait until they are gone."""
    workers = server.worker_pids()
    assert workers, "gunicorn had no workers"
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    deadline = time.monotonic() + 10
    for pid in workers:
        while _running(pid):
            assert time.monotonic() < deadline, f"worker {pid} survived SIGKILL"
            time.sleep(0.01)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie is dead, waiting for its new parent to reap it


def stored(url: str) -> dict:
    """What the database holds now, read by a fresh process-independent connection."""
    app = create_app(type("CrashCheck", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        checkins = db.session.execute(db.select(CheckIn.client_id, CheckIn.outcome, CheckIn.registration_id,
                                                CheckIn.answer)).all()
        items = db.session.execute(db.select(NoteItem.id, NoteItem.client_id, NoteItem.session_id,
                                             NoteItem.change_seq)).all()
        revisions = db.session.execute(db.select(NoteRevision.item_id, NoteRevision.action)).all()
        streams = dict(db.session.execute(db.select(NoteStream.session_id, NoteStream.seq)).all())
        integrity = None
        if db.engine.dialect.name == "sqlite":
            integrity = db.session.execute(db.text("PRAGMA integrity_check")).scalar()
            synchronous = db.session.execute(db.text("PRAGMA synchronous")).scalar()
            assert synchronous == 2, "synchronous=FULL expected (forum_app/db.py configure_sqlite)"
        db.session.remove()
        db.engine.dispose()
    return {"checkins": checkins, "items": items, "revisions": revisions, "streams": streams, "integrity": integrity}


def assert_whole(state: dict) -> None:
    """No duplicate, nothing half-written: each item has its "created" revision, each session's
    change counter matches its items (only creations here: counters 1..n, one per item), each
    check-in row carries its answer, and nobody arrived twice."""
    checkin_ids = [row.client_id for row in state["checkins"]]
    assert len(checkin_ids) == len(set(checkin_ids))
    item_ids = [row.client_id for row in state["items"]]
    assert len(item_ids) == len(set(item_ids))
    created = {item_id for item_id, action in state["revisions"] if action == "created"}
    assert {row.id for row in state["items"]} == created
    by_session: dict[int, list[int]] = {}
    for row in state["items"]:
        by_session.setdefault(row.session_id, []).append(row.change_seq)
    for session_id, seqs in by_session.items():
        assert sorted(seqs) == list(range(1, state["streams"][session_id] + 1)), session_id
    for row in state["checkins"]:
        assert json.loads(row.answer)["outcome"] == row.outcome
    arrivals = [row.registration_id for row in state["checkins"] if row.outcome == "checked_in"]
    assert len(arrivals) == len(set(arrivals))
    assert state["integrity"] in (None, "ok")


def test_sigkill_in_a_burst_loses_no_acknowledged_write_and_replays_land_once(tmp_path):
    url = file_database_url(tmp_path, suffix="crash")
    forum = build_forum(url)
    server = Gunicorn(url, tmp_path, workers=2)
    clients: list[StaffClient] = []
    try:
        server.wait_ready("/login")
        burst = Burst()
        work = []
        for email, requests in plans(forum):
            client = StaffClient(server.port)
            client.log_in(email, PASSWORD)
            clients.append(client)
            work.append(threading.Thread(target=send_until_killed, args=(client, requests, burst)))
        for thread in work:
            thread.start()

        assert burst.enough.wait(30), "the burst never reached the acknowledged writes wanted"
        burst.killed.set()  # no new request from now on; those in flight get no answer
        kill_process_group(server)
        for thread in work:
            thread.join(30)
        assert not any(thread.is_alive() for thread in work)

        assert burst.refused == []
        assert len(burst.acknowledged) >= KILL_AFTER
        assert burst.unanswered, "no request was in flight at the kill"
        assert {r.kind for r, _, _ in burst.acknowledged.values()} == {"checkin", "note"}

        port = server.port
        server = Gunicorn(url, tmp_path, workers=2, port=port)  # the same database, the same address
        server.wait_ready("/login")

        # Every acknowledged write is there exactly once; nothing is half-written.
        state = stored(url)
        assert_whole(state)
        checkin_ids = {row.client_id for row in state["checkins"]}
        item_ids = {row.client_id for row in state["items"]}
        for client_id, (request, _, _) in burst.acknowledged.items():
            assert client_id in (checkin_ids if request.kind == "checkin" else item_ids), client_id

        # The offline queues send again what got no answer: each lands once (201), or was
        # recorded before the kill and gets its first answer back (200).
        replays = StaffClient(server.port)
        replays.cookies, replays.token = clients[0].cookies, clients[0].token  # the organiser's session survived
        notes_client = StaffClient(server.port)
        notes_client.cookies, notes_client.token = clients[-1].cookies, clients[-1].token
        statuses = []
        for request in burst.unanswered.values():
            status, data = post(replays if request.kind == "checkin" else notes_client, request)
            assert status in (200, 201), (request.kind, status, data[:300])
            statuses.append(status)
        # Sending an acknowledged request again gives back the original answer, and stores nothing.
        for request, _, answer in burst.acknowledged.values():
            status, data = post(replays if request.kind == "checkin" else notes_client, request)
            assert status == 200, (request.kind, status, data[:300])
            assert json.loads(data) == answer
        replays.close()
        notes_client.close()

        state = stored(url)
        assert_whole(state)
        every_checkin = [row.client_id for row in state["checkins"]]
        every_item = [row.client_id for row in state["items"]]
        for client_id, request in burst.unanswered.items():
            assert (every_checkin if request.kind == "checkin" else every_item).count(client_id) == 1
        sent = set(burst.acknowledged) | set(burst.unanswered)
        assert set(every_checkin) | set(every_item) == sent  # nothing else was recorded
        assert "Traceback" not in server.output()
        print(f"\n{len(burst.acknowledged)} acknowledged, {len(burst.unanswered)} unanswered at the kill: "
              f"{statuses.count(200)} had been recorded (200 on replay), {statuses.count(201)} had not (201)")
    finally:
        for client in clients:
            client.close()
        server.stop()
        if ON_POSTGRESQL:
            drop_database(url)
