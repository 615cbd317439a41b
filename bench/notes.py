"""50 rapporteurs posting one note item per second each, 5 % of the POSTs replayed, against gunicorn.

    .venv/bin/python bench/notes.py                    # print the figures (the issue's run: 50 x 60 s, ~1.5 min)
    .venv/bin/python bench/notes.py --strict           # exit 1 when a count or the budget is missed
    .venv/bin/python bench/notes.py --write-results    # also replace the notes section of RESULTS.md
    .venv/bin/python bench/notes.py --seconds 20       # a shorter run
    .venv/bin/python bench/notes.py --rapporteurs 50 --seconds 60 --replay 0.05 --workers 2  # the defaults
    .venv/bin/python bench/notes.py --postgres         # the same against a throwaway local PostgreSQL server

What it does, on a temporary SQLite file database in WAL mode (never the instance database),
with everything on 127.0.0.1:

  (a) loads the demo forum and adds `--rapporteurs` (50) rapporteur accounts, each assigned to
      one of the ten demo sessions that have notes (five rapporteurs per room), rows written
      directly with the models (one scrypt hash shared by all, so the set-up stays short; the
      logins still verify it);
  (b) starts gunicorn (`--workers` sync workers) on the app as in production (CSRF on, rate
      limits on: only failed logins count);
  (c) each rapporteur (a thread with its own keep-alive connection, session cookie and CSRF
      token) logs in through the real /login form and loads its session's feed once (the
      people a quote can be attributed to), as the capture page does;
  (d) the baseline: the same rapporteurs GET the static CSS at the same pace for
      `--baseline-seconds` (10 s);
  (e) the run: released together, each rapporteur POSTs /api/v1/e/<slug>/s/<code>/notes once a
      second, paced on its own clock (not back to back: an open loop, starts spread over the
      first second), for `--seconds` (60). Items are the capture page's: key points, quotes
      attributed to one of the session's people, proposals, questions, figures, a new
      client_id each. `--replay` (5 %) of each rapporteur's POSTs, at random seconds, resend
      the exact body of one of its earlier items, as a phone does when an answer was lost:
      the answer must be 200 with the original item's id;
  (f) checks the answers and the database: every new client_id answered 201 with its own item,
      every replay 200 with the original id and text, as many items stored as unique client
      ids sent, none lost, none twice, each as sent, one revision each, zero errors.

Two latencies per request: the server time (gunicorn's %(D)s: from the worker starting the
request to the response written, queueing for a free worker excluded) and the client time
(request sent to last byte). The load is paced (50 requests/s in all), so unlike a closed loop
the client time is not Little's law queueing: it is what a rapporteur's phone waits for,
minus the network. The budget (p99 ≤ 50 ms) is judged on the server time, as the other
benchmarks do; the client figures are printed next to it and reported against the same
budget. The load generator runs on the same 2 cores as the server.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

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

BUDGET_P99_MS = 50.0
PASSWORD = "bench-rapporteur-password"
STATIC_PATH = "/static/css/app.css"
KINDS = ["key_point", "quote", "key_point", "proposal", "quote", "question", "figure", "key_point"]
WARM_PREFIX = "warm-"


def rapporteur_email(number: int) -> str:
    return f"rapporteur{number:02d}@bench.example"


# --------------------------------------------------------------------------- data


def build_database(url: str, rapporteurs: int) -> tuple[str, dict[int, str]]:
    """The demo forum and `rapporteurs` rapporteurs (+ one to warm the workers, number 0), each
    assigned to one of the demo sessions that have notes; (slug, {number: session code})."""
    from werkzeug.security import generate_password_hash

    from forum_app import create_app
    from forum_app.auth.models import EventRole, User
    from forum_app.extensions import db
    from forum_app.notes import demo
    from forum_app.notes.models import RapporteurAssignment
    from forum_app.notes.services import get_session

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        db.drop_all()  # PostgreSQL: a run starts from an empty database
        db.create_all()
        from forum_app.programme import imports

        event = imports.import_schedule_file(app.config["DEMO_DATA"]).event
        slug = event.slug
        codes = list(dict.fromkeys(entry["session"] for entry in demo.read_items()))
        sessions = {code: get_session(event, code) for code in codes}
        shared_hash = generate_password_hash(PASSWORD, app.config["PASSWORD_HASH_METHOD"])
        assignment = {}
        for number in range(rapporteurs + 1):
            code = codes[(number - 1) % len(codes)] if number else codes[0]
            user = User(email=rapporteur_email(number), name=f"Rapporteur·e {number:02d}", password_hash=shared_hash)
            user.roles.append(EventRole(event_id=event.id, role="rapporteur"))
            db.session.add(user)
            db.session.flush()
            db.session.add(RapporteurAssignment(user_id=user.id, session_id=sessions[code].id))
            assignment[number] = code
        db.session.commit()
        if url.startswith("sqlite"):
            assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
        db.session.remove()
        db.engine.dispose()
    return slug, assignment


def check_database(url: str, slug: str, sent: dict[str, dict]) -> dict:
    """What the database holds of the items sent (`sent`: client_id -> {code, body})."""
    from forum_app import create_app
    from forum_app.extensions import db
    from forum_app.notes.models import NoteItem, NoteRevision, NoteStream
    from forum_app.programme.models import Event, Session

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        event = db.session.scalar(db.select(Event).filter_by(slug=slug))
        rows = db.session.execute(
            db.select(NoteItem.id, NoteItem.client_id, NoteItem.kind, NoteItem.text, NoteItem.attribution_person_id,
                      Session.code)
            .join(Session, Session.id == NoteItem.session_id)
            .where(NoteItem.event_id == event.id, NoteItem.client_id.not_like(f"{WARM_PREFIX}%"))
        ).all()
        warm_items = db.session.scalar(
            db.select(db.func.count(NoteItem.id)).where(NoteItem.client_id.like(f"{WARM_PREFIX}%"))
        )
        revisions = db.session.scalar(
            db.select(db.func.count(NoteRevision.id))
            .join(NoteItem, NoteItem.id == NoteRevision.item_id)
            .where(NoteItem.client_id.not_like(f"{WARM_PREFIX}%"))
        )
        stream_total = db.session.scalar(db.select(db.func.coalesce(db.func.sum(NoteStream.seq), 0)))
        counts: dict[str, int] = {}
        mismatched = 0
        by_client = {}
        for item_id, client_id, kind, text, person_id, code in rows:
            counts[client_id] = counts.get(client_id, 0) + 1
            by_client[client_id] = item_id
            wanted = sent.get(client_id)
            if wanted is None:
                mismatched += 1
                continue
            body = wanted["body"]
            if (kind, text, code, person_id) != (
                body["kind"], body["text"], wanted["code"], (body.get("attribution") or {}).get("person_id")
            ):
                mismatched += 1
        result = {
            "items": len(rows),
            "lost": sum(1 for client_id in sent if client_id not in counts),
            "twice": sum(1 for n in counts.values() if n > 1),
            "mismatched": mismatched,
            "revisions": revisions,
            "stream_changes": stream_total - warm_items,
            "ids": by_client,
        }
        db.session.remove()
        db.engine.dispose()
    return result


# --------------------------------------------------------------------------- server


# --------------------------------------------------------------------------- rapporteurs


class Rapporteur(StaffClient):
    """One rapporteur's phone, writing in one session."""

    def __init__(self, port: int, number: int, code: str):
        super().__init__(port)
        self.number = number
        self.code = code
        self.people: list[int] = []

    def log_in(self) -> None:  # type: ignore[override]
        super().log_in(rapporteur_email(self.number), PASSWORD)

    def load_session(self, slug: str) -> None:
        """The capture page's first feed: the session's people, for attributed quotes."""
        status, data = self.send("GET", f"/api/v1/e/{slug}/s/{self.code}/notes", headers={"Accept": "application/json"})
        if status != 200:
            raise RuntimeError(f"GET notes of {self.code} answered {status}")
        self.people = [person["id"] for person in json.loads(data)["session"]["people"]]

    def post_item(self, slug: str, body: dict) -> tuple[int, dict | None]:
        status, data = self.send(
            "POST", f"/api/v1/e/{slug}/s/{self.code}/notes", body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.token, "Accept": "application/json"},
        )
        try:
            return status, json.loads(data)
        except ValueError:
            return status, None


def run_all(rapporteurs: list[Rapporteur], work) -> tuple[list[str], float]:
    """Every rapporteur runs work(rapporteur, start) from the same start; (errors, seconds)."""
    barrier = threading.Barrier(len(rapporteurs) + 1)
    errors: list[str] = []
    start_at: list[float] = []

    def run(r: Rapporteur) -> None:
        try:
            barrier.wait(timeout=60)
            work(r, start_at[0])
        except Exception as error:  # noqa: BLE001 - counted as an error
            errors.append(f"rapporteur {r.number}: {error!r}")

    threads = [threading.Thread(target=run, args=(r,), daemon=True) for r in rapporteurs]
    for thread in threads:
        thread.start()
    start_at.append(time.perf_counter() + 0.05)
    barrier.wait(timeout=60)
    for thread in threads:
        thread.join(timeout=900)
    return errors, time.perf_counter() - start_at[0]


def paced(start: float, offset: float, k: int) -> float:
    """Sleep until the k-th second of this rapporteur's clock; how late we are (ms)."""
    target = start + offset + k
    delay = target - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
    return (time.perf_counter() - target) * 1000


def item_texts() -> list[str]:
    from forum_app.notes import demo

    return [entry["text"] for entry in demo.read_items()]


# --------------------------------------------------------------------------- run


def run(args) -> tuple[str, list[str]]:
    missed: list[str] = []
    loadavg = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    texts = item_texts()
    replays_each = round(args.seconds * args.replay)
    with tempfile.TemporaryDirectory(prefix="bench-notes-") as tmp:
        workdir = Path(tmp)
        url = args.database_url or f"sqlite:///{workdir / 'forum.db'}"
        started = time.perf_counter()
        slug, assignment = build_database(url, args.rapporteurs)
        setup_seconds = time.perf_counter() - started
        server = Gunicorn(url, workdir, args.workers)
        rapporteurs: list[Rapporteur] = []
        notes_path = re.compile(rf"/api/v1/e/{re.escape(slug)}/s/[A-Z0-9]+/notes")
        try:
            server.wait_ready("/login")
            rapporteurs = [Rapporteur(server.port, n, assignment[n]) for n in range(1, args.rapporteurs + 1)]
            login_errors, login_seconds = run_all(rapporteurs, lambda r, _: (r.log_in(), r.load_session(slug)))
            if login_errors:
                raise RuntimeError("; ".join(login_errors[:3]))
            # Warm both workers a little (imports, templates, statements), outside the figures.
            warm = Rapporteur(server.port, 0, assignment[0])
            warm.log_in()
            warm.load_session(slug)
            for i in range(args.workers * 5):
                warm.get(STATIC_PATH)
                warm.post_item(slug, {"client_id": f"{WARM_PREFIX}{uuid.uuid4().hex}", "kind": "key_point",
                                      "text": texts[i % len(texts)], "captured_at": datetime.now(UTC).isoformat()})
            warm.close()

            # The baseline: the same rapporteurs, the same pace, the static stylesheet.
            mark = server.access_lines()
            static_client: list[float] = []
            lock = threading.Lock()

            def fetch_static(r: Rapporteur, start: float) -> None:
                rng = random.Random(500 + r.number)
                offset = rng.random()
                for k in range(args.baseline_seconds):
                    paced(start, offset, k)
                    t0 = time.perf_counter()
                    status = r.get(STATIC_PATH)
                    elapsed = (time.perf_counter() - t0) * 1000
                    with lock:
                        static_client.append(elapsed)
                    if status != 200:
                        raise RuntimeError(f"static answered {status}")

            static_errors, static_seconds = run_all(rapporteurs, fetch_static)
            time.sleep(0.3)
            static_lines, mark = server.server_times("GET", re.compile(re.escape(STATIC_PATH)).fullmatch, mark)
            static_server = [t for _, t in static_lines]

            # The run: one item a second per rapporteur, 5 % of them replays of an earlier one.
            sent: dict[str, dict] = {}  # client_id -> {code, body, id (answered)}
            new_client: list[float] = []
            replay_client: list[float] = []
            lateness: list[float] = []
            answers = {"created": 0, "replayed": 0, "other": 0, "ids": []}
            bad: list[str] = []

            def note(message: str) -> None:
                if len(bad) < 20:
                    bad.append(message)

            def capture(r: Rapporteur, start: float) -> None:
                rng = random.Random(1000 + r.number)
                offset = rng.random()
                replay_at = set(rng.sample(range(1, args.seconds), min(replays_each, args.seconds - 1)))
                mine: list[tuple[dict, dict]] = []  # (body, first answer)
                for k in range(args.seconds):
                    late = paced(start, offset, k)
                    replay = k in replay_at and bool(mine)
                    if replay:
                        body, original = rng.choice(mine)
                    else:
                        kind = KINDS[(r.number + k) % len(KINDS)]
                        text = texts[rng.randrange(len(texts))]
                        if rng.random() < 0.1:  # now and then a longer paragraph
                            text = f"{text}\n\n{texts[rng.randrange(len(texts))]}"
                        body = {"client_id": uuid.uuid4().hex, "kind": kind, "text": text,
                                "captured_at": datetime.now(UTC).isoformat(), "highlighted": rng.random() < 0.2}
                        if kind == "quote" and r.people:
                            body["attribution"] = {"person_id": rng.choice(r.people)}
                    t0 = time.perf_counter()
                    status, answer = r.post_item(slug, body)
                    elapsed = (time.perf_counter() - t0) * 1000
                    answer = answer or {}
                    with lock:
                        lateness.append(late)
                        if replay:
                            replay_client.append(elapsed)
                            if (status == 200 and answer.get("id") == original.get("id")
                                    and answer.get("text") == original.get("text")):
                                answers["replayed"] += 1
                            else:
                                answers["other"] += 1
                                note(f"replay by {r.number}: {status} {answer} (original {original.get('id')})")
                        else:
                            new_client.append(elapsed)
                            sent[body["client_id"]] = {"code": r.code, "body": body, "id": answer.get("id")}
                            if (status == 201 and answer.get("client_id") == body["client_id"]
                                    and answer.get("session") == r.code and answer.get("version") == 1):
                                answers["created"] += 1
                                answers["ids"].append(answer["id"])
                            else:
                                answers["other"] += 1
                                note(f"new item by {r.number}: {status} {answer}")
                    if not replay:
                        mine.append((body, answer))

            cpu_before, own_before, machine_before = server.cpu_seconds(), time.process_time(), machine_busy_seconds()
            run_errors, run_seconds = run_all(rapporteurs, capture)
            cpu_used = server.cpu_seconds() - cpu_before
            own_used = time.process_time() - own_before
            machine_used = machine_busy_seconds() - machine_before
            time.sleep(0.3)
            post_lines, mark = server.server_times("POST", notes_path.fullmatch, mark)
        finally:
            for r in rapporteurs:
                r.close()
            server.stop()
        server_errors = [line for line in server.output().splitlines() if "Error" in line or "Traceback" in line]
        stored = check_database(url, slug, sent)

    posts = args.rapporteurs * args.seconds
    unique = len(sent)
    replays = len(replay_client)
    answered_ids_wrong = sum(1 for cid, item in sent.items() if stored["ids"].get(cid) != item["id"])
    post_server = [t for _, t in post_lines]
    new_server = [t for s, t in post_lines if s == 201]
    replay_server = [t for s, t in post_lines if s == 200]
    http_errors = sum(1 for s, _ in post_lines if s >= 400)
    server_5xx = sum(1 for s, _ in post_lines if s >= 500)
    all_client = new_client + replay_client
    rate = len(all_client) / run_seconds if run_seconds else 0.0
    cpu_per_post = cpu_used * 1000 / max(len(all_client), 1)
    client_cpu_per_post = own_used * 1000 / max(len(all_client), 1)
    others_cores = max(machine_used - cpu_used - own_used, 0.0) / run_seconds if run_seconds else float("nan")
    checks = [
        ("POSTs sent (rapporteurs × seconds), of which replays", f"{len(all_client)}, {replays}",
         f"{posts}, {args.rapporteurs * min(replays_each, args.seconds - 1)}"),
        ("new client ids answered 201 with their own new item", answers["created"], posts - replays),
        ("replays answered 200 with the original item's id and text", answers["replayed"], replays),
        ("other answers", answers["other"], 0),
        ("distinct item ids answered to new client ids", len(set(answers["ids"])), unique),
        ("items in the database", stored["items"], unique),
        ("client ids sent but not stored (lost)", stored["lost"], 0),
        ("client ids stored twice (duplicated)", stored["twice"], 0),
        ("items stored otherwise than sent (kind, text, session, attribution) or not answered with their id",
         stored["mismatched"] + answered_ids_wrong, 0),
        ("revisions (one per item: replays write nothing)", stored["revisions"], unique),
        ("session change counters bumped", stored["stream_changes"], unique),
        ("HTTP 4xx/5xx (access log), of which 5xx", f"{http_errors}, {server_5xx}", "0, 0"),
        ("access-log lines for the POSTs", len(post_lines), posts),
        ("client errors (connection, exceptions)", len(run_errors) + len(static_errors), 0),
        ("server errors logged", len(server_errors), 0),
    ]
    for name, got, want in checks:
        if got != want:
            missed.append(f"{name}: {got} (expected {want})")
    p99_server = percentile(post_server, 99)
    p99_client = percentile(all_client, 99)
    if not p99_server <= BUDGET_P99_MS:
        missed.append(f"note POST p99 server time {p99_server:.1f} ms > {BUDGET_P99_MS:.0f} ms")

    static_s50 = percentile(static_server, 50)
    static_c50 = percentile(static_client, 50)
    static_rate = len(static_client) / static_seconds if static_seconds else 0.0

    def row(name, server_times, client_times, per_second, budget=""):
        s50, s95, s99 = (percentile(server_times, p) for p in (50, 95, 99))
        c50, c95, c99 = (percentile(client_times, p) for p in (50, 95, 99))
        return (
            f"| {name} | {len(client_times)} | {per_second:.1f} | {s50:.1f} ms | {s95:.1f} ms | {s99:.1f} ms "
            f"| {s50 / static_s50:.1f} | {c50:.1f} ms | {c95:.1f} ms | {c99:.1f} ms | {c50 / static_c50:.1f} "
            f"| {budget} |"
        )

    notes_url = f"`POST /api/v1/e/{slug}/s/<code>/notes`"
    lines = [
        (
            f"Run on {datetime.now().strftime('%Y-%m-%d %H:%M')} — machine: nproc {os.cpu_count()}, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
            f"load average at start {loadavg}."
        ),
        "",
        "```",
        f".venv/bin/python bench/notes.py {' '.join(sys.argv[1:])}".rstrip(),
        "```",
        "",
        (
            f"gunicorn {args.workers} sync workers on 127.0.0.1, {database_label(args)}, CSRF on. "
            f"{args.rapporteurs} rapporteurs (threads), five or so per demo session with notes "
            f"({len(set(assignment.values()))} sessions), each logged in through the /login form and holding one "
            f"keep-alive connection, each POSTing one item a second on its own clock (an open loop: "
            f"{args.rapporteurs} requests/s in all, starts spread over the first second) for {args.seconds} s; "
            f"{replays_each} of each one's {args.seconds} POSTs ({replays_each / args.seconds:.0%}) resend the "
            f"exact body of one of its earlier items. The load generator (one Python process) shares the "
            f"{os.cpu_count()} cores with the server."
        ),
        "",
        "| check | result | expected |",
        "|---|---|---|",
        *[f"| {name} | {got} | {want} |" for name, got, want in checks],
        "",
        (
            f"| request ({args.rapporteurs} rapporteurs × 1/s) | n | per second | server p50 | server p95 "
            "| server p99 | x static | client p50 | client p95 | client p99 | x static (client) | budget |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        row(f"GET {STATIC_PATH} (baseline, {args.baseline_seconds} s)", static_server, static_client, static_rate),
        row(f"{notes_url}, new item (201)", new_server, new_client, len(new_client) / run_seconds),
        row(f"{notes_url}, replay (200)", replay_server, replay_client, len(replay_client) / run_seconds),
        row(f"{notes_url}, all", post_server, all_client, rate, f"p99 ≤ {BUDGET_P99_MS:.0f} ms (server)"),
        "",
        (
            f"{len(all_client)} POSTs in {run_seconds:.1f} s ({rate:.1f}/s). Server CPU {cpu_per_post:.2f} ms per "
            f"POST (master and workers, from /proc): the {args.rapporteurs} rapporteurs kept the server at "
            f"{cpu_used / run_seconds:.2f} core; the load generator {own_used / run_seconds:.2f} core "
            f"({client_cpu_per_post:.2f} ms per POST), other processes on the machine {others_cores:.2f} core "
            f"(/proc/stat). Client p99 {p99_client:.1f} ms against the same {BUDGET_P99_MS:.0f} ms: "
            f"{'within' if p99_client <= BUDGET_P99_MS else 'over'}. The pacing held: sends were "
            f"{percentile(lateness, 50):.1f} ms (p50) and {percentile(lateness, 99):.1f} ms (p99) after their "
            f"second, {max(lateness, default=0):.0f} ms at worst. Setup (demo forum, {args.rapporteurs} accounts): "
            f"{setup_seconds:.1f} s; {args.rapporteurs} logins and first feeds, in parallel: {login_seconds:.2f} s."
        ),
        "",
        f"Verdict: {'all checks and the budget met' if not missed else 'MISSED — ' + '; '.join(missed)}.",
    ]
    first_errors = bad[:5] + run_errors[:5] + static_errors[:5] + server_errors[:5]
    if first_errors:
        lines += ["", "First errors:", "", *[f"- `{e[:300]}`" for e in first_errors]]
    return "\n".join(lines), missed


def database_label(args) -> str:
    if args.database_url and not args.database_url.startswith("sqlite"):
        return "PostgreSQL (local server, scripts/postgres-local.sh)"
    return "SQLite file in WAL mode"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rapporteurs", type=int, default=50, help="concurrent rapporteurs (default 50)")
    parser.add_argument("--seconds", type=int, default=60, help="seconds of posting, one item a second each (default 60)")
    parser.add_argument("--replay", type=float, default=0.05, help="share of each one's POSTs that are replays (default 0.05)")
    parser.add_argument("--baseline-seconds", type=int, default=10, help="seconds of the static-file baseline (default 10)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", action="store_true",
                        help="run against a throwaway local PostgreSQL server (scripts/postgres-local.sh), not SQLite")
    parser.add_argument("--database-url", help="run against this database instead (its tables are DROPPED first)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a check or the budget is missed")
    parser.add_argument("--write-results", action="store_true", help="replace the notes section of RESULTS.md")
    args = parser.parse_args(argv)
    if not 1 <= args.rapporteurs <= 100 or not 2 <= args.seconds <= 300 or not 0 <= args.replay <= 0.5:
        parser.error("--rapporteurs must be 1..100, --seconds 2..300, --replay 0..0.5 (bounded run)")
    if not 1 <= args.baseline_seconds <= 60:
        parser.error("--baseline-seconds must be 1..60")
    report, missed = run_on_database(args, run)
    print(report)
    if args.write_results:
        postgres = uses_postgres(args)
        database = "PostgreSQL" if postgres else "SQLite"
        write_section(
            "bench/notes.py --postgres" if postgres else "bench/notes.py",
            f"## Notes ({database}): {args.rapporteurs} rapporteurs posting one item a second for {args.seconds} s, "
            "5 % replayed",
            report,
        )
        print(f"\nWrote {ROOT / 'bench' / 'RESULTS.md'}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
