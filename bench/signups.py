"""200 parallel sign-ups for a 40-seat workshop, against gunicorn, measured against the budgets.

    .venv/bin/python bench/signups.py                  # print the figures
    .venv/bin/python bench/signups.py --strict         # exit 1 when a count or a budget is missed
    .venv/bin/python bench/signups.py --write-results  # also replace the sign-ups section of RESULTS.md
    .venv/bin/python bench/signups.py --people 200 --seats 40 --workers 2

What it does, on a temporary SQLite file database in WAL mode (never the instance database),
with everything on 127.0.0.1:

  (a) loads the demo forum and sets workshop A3 to `--seats` places;
  (b) starts gunicorn (`--workers` sync workers) on the app as in production (CSRF on, mail to
      .eml files in a temporary outbox, composed on the background mail thread) except that
      the per-address rate limit of the form is off (every client here is 127.0.0.1);
  (c) each of `--people` clients GETs the real form /e/<slug>/register (session cookie and
      CSRF token), then all of them POST it at the same moment (a barrier), choosing A3;
  (d) the same burst of GETs of the static CSS is the same-run baseline;
  (e) checks the database: exactly `--seats` confirmed, the rest waiting with positions
      1..n in arrival order (the order the server took the write lock), zero errors, and one
      mail per person in the outbox.

Two latencies per request: the server time (gunicorn's %(D)s: from the worker starting the
request to the response written, without the time spent queued for a free worker), and the
client time (connect to last byte, queueing included: with 200 requests arriving at once on
2 workers, the last waits for the 199 before it). The budget (p95 ≤ 50 ms) is on the server
time; the client figures show what a burst costs the slowest person.
"""
from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_P95_MS = 50.0
WORKSHOP = "A3"
SECRET = "bench-secret-key-not-for-production"
SECTION_START = "<!-- bench/signups.py: start -->"
SECTION_END = "<!-- bench/signups.py: end -->"
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


# --------------------------------------------------------------------------- data


def build_database(db_path: Path, seats: int) -> str:
    from forum_app import create_app
    from forum_app.extensions import db
    from forum_app.programme.models import Session

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": SECRET})
    with app.app_context():
        db.create_all()
        from forum_app.programme import imports

        event = imports.import_schedule_file(app.config["DEMO_DATA"]).event
        session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=WORKSHOP))
        session.capacity = seats
        slug = event.slug
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return slug


def check_database(db_path: Path, slug: str) -> dict:
    """Counts and order of the workshop's seats after the burst."""
    from forum_app import create_app
    from forum_app.extensions import db
    from forum_app.programme.models import Event, Session
    from forum_app.registration import services
    from forum_app.registration.models import Registration, WorkshopSeat

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": SECRET, "MAIL_ASYNC": False})
    with app.app_context():
        event = db.session.scalar(db.select(Event).filter_by(slug=slug))
        seats = list(
            db.session.scalars(
                db.select(WorkshopSeat)
                .join(Session, Session.id == WorkshopSeat.session_id)
                .where(Session.code == WORKSHOP, Session.event_id == event.id)
                .order_by(WorkshopSeat.requested_at, WorkshopSeat.id)
            )
        )
        positions = services.waitlist_positions(seats)
        statuses = [seat.status for seat in seats]
        confirmed = statuses.count("confirmed")
        waiting = [seat for seat in seats if seat.status == "waitlisted"]
        result = {
            "registrations": db.session.scalar(db.select(db.func.count(Registration.id)).filter_by(event_id=event.id)),
            "confirmed": confirmed,
            "waitlisted": len(waiting),
            # In arrival order: every seat before every waiting place, and positions 1..n by arrival.
            "arrival_order": statuses == ["confirmed"] * confirmed + ["waitlisted"] * len(waiting)
            and [positions.get(seat.id) for seat in waiting] == list(range(1, len(waiting) + 1)),
            "availability": next(
                (a.confirmed, a.waitlisted) for a in services.availability(event) if a.session.code == WORKSHOP
            ),
        }
        db.session.remove()
        db.engine.dispose()
    return result


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, db_path: Path, workdir: Path, workers: int):
        self.port = free_port()
        self.access_log = workdir / "access.log"
        self.outbox = workdir / "outbox"
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.command = [
            str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
            "--access-logfile", str(self.access_log), "--access-logformat", ACCESS_FORMAT,
            "--error-logfile", "-", "--log-level", "warning", "--graceful-timeout", "60",
            "forum_app:create_app({'RATELIMIT_ENABLED': False})",
        ]
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{db_path}",
            "SECRET_KEY": SECRET,
            "MAIL_BACKEND": "outbox",
            "MAIL_OUTBOX_DIR": str(self.outbox),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
        }
        env.pop("FORUM_NOW", None)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server; read at the end
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, path: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                status, _, _ = request("GET", self.port, path)
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start:\n" + self.output()[-3000:])

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def server_times(self, method: str, path_prefix: str, since_line: int) -> tuple[list[float], list[int], int]:
        """Server times (ms) and statuses of the access-log lines after `since_line`."""
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        times, statuses = [], []
        for line in lines[since_line:]:
            parts = line.split()
            if len(parts) == 4 and parts[0] == method and parts[1].startswith(path_prefix):
                statuses.append(int(parts[2]))
                times.append(int(parts[3]) / 1000)
        return times, statuses, len(lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # graceful: workers drain their mail queue first
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# --------------------------------------------------------------------------- clients


def request(method: str, port: int, path: str, *, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, response.getheaders(), data
    finally:
        connection.close()


def prepare_form(port: int, slug: str) -> tuple[str, str]:
    """GET the form: the session cookie and the CSRF token a browser would hold."""
    status, headers, body = request("GET", port, f"/e/{slug}/register")
    if status != 200:
        raise RuntimeError(f"GET /e/{slug}/register answered {status}")
    cookies = [value.split(";", 1)[0] for name, value in headers if name.lower() == "set-cookie"]
    found = CSRF_RE.search(body.decode())
    if not found:
        raise RuntimeError("no csrf_token in the registration form")
    return "; ".join(cookies), found.group(1) or found.group(2)


def form_body(i: int, token: str) -> bytes:
    fields = [
        ("csrf_token", token),
        ("first_name", ["Zoé", "Анна", "فاطمة", "Jean-François"][i % 4]),
        ("last_name", f"L'Hôte-Dupré {i}"),
        ("email", f"personne{i}@example.org"),
        ("organisation", "Ville de Roubaix"),
        ("job_title", "Chargée de mission"),
        ("category", "collectivite"),
        ("territory", "Roubaix"),
        ("delegation", ""),
        ("accessibility_needs", ""),
        ("workshops", WORKSHOP),
        ("consent", "y"),
        ("website", ""),
    ]
    return urllib.parse.urlencode(fields).encode()


def burst(count: int, make_request) -> tuple[list[float], list[str]]:
    """`count` threads released together, each making one request; client times (ms) and errors."""
    barrier = threading.Barrier(count)
    times: list[float | None] = [None] * count
    errors: list[str] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            start = time.perf_counter()
            status = make_request(i)
            times[i] = (time.perf_counter() - start) * 1000
            if status is not None:
                errors.append(f"#{i}: {status}")
        except Exception as error:  # noqa: BLE001 - counted as an error
            errors.append(f"#{i}: {error!r}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return [t for t in times if t is not None], errors


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def wait_for_mails(outbox: Path, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        count = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0
        if count >= expected:
            break
        time.sleep(0.25)
    return count


# --------------------------------------------------------------------------- run


def run(args) -> tuple[str, list[str]]:
    missed: list[str] = []
    loadavg = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench-signups-") as tmp:
        workdir = Path(tmp)
        db_path = workdir / "forum.db"
        slug = build_database(db_path, args.seats)
        server = Gunicorn(db_path, workdir, args.workers)
        try:
            server.wait_ready(f"/e/{slug}/register")
            static_path = "/static/css/app.css"
            request("GET", server.port, static_path)  # warm every worker a little
            for _ in range(args.workers * 2):
                request("GET", server.port, f"/e/{slug}/register")

            # The baseline: the same burst shape on the static stylesheet.
            _, _, mark = server.server_times("GET", static_path, 0)
            static_client, static_errors = burst(
                args.people, lambda i: None if request("GET", server.port, static_path)[0] == 200 else "not 200"
            )
            time.sleep(0.5)
            static_server, _, mark = server.server_times("GET", static_path, mark)

            # Each person opens the form (cookie + CSRF token), a few at a time.
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                forms = list(pool.map(lambda _: prepare_form(server.port, slug), range(args.people)))
            prepare_seconds = time.perf_counter() - start
            _, _, mark = server.server_times("GET", "/", mark)

            def post(i: int):
                cookie, token = forms[i]
                status, headers, _ = request(
                    "POST", server.port, f"/e/{slug}/register", body=form_body(i, token),
                    headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
                )
                location = {k.lower(): v for k, v in headers}.get("location", "")
                return None if status == 303 and location.endswith("/register/merci") else f"{status} {location}"

            cpu_before = server.cpu_seconds()
            start = time.perf_counter()
            post_client, post_errors = burst(args.people, post)
            burst_seconds = time.perf_counter() - start
            start = time.perf_counter()
            mails = wait_for_mails(server.outbox, args.people, timeout=args.people * 1.0 + 30)
            mail_seconds = time.perf_counter() - start
            cpu_used = server.cpu_seconds() - cpu_before
            post_server, post_statuses, mark = server.server_times("POST", f"/e/{slug}/register", mark)
        finally:
            server.stop()
        mails_after_stop = len(list(server.outbox.glob("*.eml"))) if server.outbox.exists() else 0
        server_errors = [line for line in server.output().splitlines() if "Error" in line or "Traceback" in line]
        counts = check_database(db_path, slug)

    expected_waiting = max(args.people - args.seats, 0)
    expected_confirmed = min(args.people, args.seats)
    errors = len(post_errors) + len(static_errors)
    p95_post = percentile(post_server, 95)
    checks = [
        ("registrations stored", counts["registrations"], args.people),
        ("confirmed seats", counts["confirmed"], expected_confirmed),
        ("waiting list", counts["waitlisted"], expected_waiting),
        ("waiting positions 1..n in arrival order", "yes" if counts["arrival_order"] else "no", "yes"),
        ("availability() agrees", f"{counts['availability'][0]} + {counts['availability'][1]}",
         f"{expected_confirmed} + {expected_waiting}"),
        ("errors (HTTP or connection)", errors, 0),
        ("server errors logged", len(server_errors), 0),
        ("mails in the outbox", mails_after_stop, args.people),
    ]
    for name, got, want in checks:
        if got != want:
            missed.append(f"{name}: {got} (expected {want})")
    if not p95_post <= BUDGET_P95_MS:
        missed.append(f"registration POST p95 server time {p95_post:.1f} ms > {BUDGET_P95_MS:.0f} ms")

    static_p50 = percentile(static_server, 50)
    static_client_p50 = percentile(static_client, 50)

    def row(name, server_times, client_times, budget=""):
        s50, s95 = percentile(server_times, 50), percentile(server_times, 95)
        c50, c95 = percentile(client_times, 50), percentile(client_times, 95)
        return (
            f"| {name} | {len(server_times)} | {s50:.1f} ms | {s95:.1f} ms | {max(server_times, default=float('nan')):.1f} ms "
            f"| {s50 / static_p50:.1f} | {c50:.0f} ms | {c95:.0f} ms | {c50 / static_client_p50:.1f} | {budget} |"
        )

    lines = [
        (
            f"Run on {datetime.now().strftime('%Y-%m-%d %H:%M')} — machine: nproc {os.cpu_count()}, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
            f"load average at start {loadavg}."
        ),
        "",
        "```",
        f".venv/bin/python bench/signups.py {' '.join(sys.argv[1:])}".rstrip(),
        "```",
        "",
        (
            f"gunicorn {args.workers} sync workers on 127.0.0.1, SQLite file in WAL mode, CSRF on, mail to .eml "
            f"files (background mail thread), form rate limit off. {args.people} clients GET the form, then POST "
            f"it at the same moment choosing {WORKSHOP} ({args.seats} seats). Client and server share the 2 cores."
        ),
        "",
        "| check | result | expected |",
        "|---|---|---|",
        *[f"| {name} | {got} | {want} |" for name, got, want in checks],
        "",
        (
            f"| request (burst of {args.people}) | n | server p50 | server p95 | server max | x static "
            "| client p50 | client p95 | x static (client) | budget |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
        row("GET /static/css/app.css (baseline)", static_server, static_client),
        row(f"POST /e/{slug}/register", post_server, post_client, f"p95 ≤ {BUDGET_P95_MS:.0f} ms (server)"),
        "",
        (
            f"The POST burst took {burst_seconds:.2f} s ({args.people / burst_seconds:.0f} sign-ups/s); the server "
            f"used {cpu_used:.1f} s of CPU until the last mail was written ({cpu_used * 1000 / args.people:.0f} ms "
            f"per sign-up, its email with the badge PDF and the .ics included); the last of the {mails} emails "
            f"was written {mail_seconds:.1f} s after the burst. Preparing the {args.people} forms "
            f"(GET, 8 at a time) took {prepare_seconds:.2f} s. POST statuses: "
            + ", ".join(f"{code} × {post_statuses.count(code)}" for code in sorted(set(post_statuses)))
            + "."
        ),
        "",
        f"Verdict: {'all checks and the budget met' if not missed else 'MISSED — ' + '; '.join(missed)}.",
    ]
    if post_errors[:5] or server_errors[:5]:
        lines += ["", "First errors:", "", *[f"- {e}" for e in (post_errors + server_errors)[:10]]]
    return "\n".join(lines), missed


def write_results(report: str, people: int, seats: int) -> None:
    """Replace this script's section of RESULTS.md (appended at the end the first time)."""
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else ""
    title = f"## Sign-ups: {people} parallel registrations for a {seats}-seat workshop"
    section = f"{SECTION_START}\n{title}\n\n{report}\n{SECTION_END}\n"
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seats", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a check or the budget is missed")
    parser.add_argument("--write-results", action="store_true", help="replace the sign-ups section of RESULTS.md")
    args = parser.parse_args(argv)
    if not 1 <= args.people <= 1000:
        parser.error("--people must be between 1 and 1000 (the burst holds one thread per person)")
    report, missed = run(args)
    print(report)
    if args.write_results:
        write_results(report, args.people, args.seats)
        print(f"\nWrote {ROOT / 'bench' / 'RESULTS.md'}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
