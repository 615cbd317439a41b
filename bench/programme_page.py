"""Speed benchmark of the public programme page, measured against its budgets.

    .venv/bin/python bench/programme_page.py                 # print the figures
    .venv/bin/python bench/programme_page.py --strict        # exit 1 when a budget is missed
    .venv/bin/python bench/programme_page.py --write-results # also rewrite bench/RESULTS.md
    .venv/bin/python bench/programme_page.py --profile       # cProfile of the 600-session page

What it does, on a temporary SQLite file database (never the instance database):
  (a) loads the demo forum (c3voc import) and a generated forum of 600 sessions
      (3 days, 20 rooms, ~300 people);
  (b) server time of GET /e/<slug>/ in-process (Flask test client): p50/p95 and SQL
      queries per request, next to a same-run baseline (the static CSS, a 404 page);
  (c) first-load weight: the programme HTML and every CSS/JS/image it references,
      as transferred with Accept-Encoding: gzip, and the number of requests;
  (d) repeat visit: If-None-Match answered 304, and its time;
  (e) throughput under gunicorn (2 workers) loaded by wrk for 10 s on loopback
      (a bounded Python thread-pool loader when wrk is missing), static CSS as baseline.
"""
from __future__ import annotations

import argparse
import cProfile
import gzip
import io
import os
import platform
import pstats
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGETS = {
    "p95_demo_ms": 25.0,
    "p95_600_ms": 150.0,
    "rps_programme": 300.0,
    "first_load_kb": 30.0,
    "first_load_requests": 4,
}
GENERATED_SLUG = "bench600"
LOADAVG_AT_START = " / ".join(f"{x:.2f}" for x in os.getloadavg())
SECRET = "bench-secret-key-not-for-production"


# --------------------------------------------------------------------------- data


def build_database(db_path: Path):
    """A fresh app on `db_path` holding the demo forum and the generated 600-session forum."""
    from forum_app import create_app
    from forum_app.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "SECRET_KEY": SECRET,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        from forum_app.programme import imports

        demo = imports.import_schedule_file(app.config["DEMO_DATA"]).event
        demo_slug = demo.slug
        generate_forum(GENERATED_SLUG, sessions=600, days=3, rooms=20, people=300)
        db.session.remove()
    return app, demo_slug


def generate_forum(slug: str, *, sessions: int, days: int, rooms: int, people: int) -> None:
    """A big forum, deterministic: `sessions` spread over `days` x `rooms`, 2-4 people each."""
    import random

    from forum_app.extensions import db
    from forum_app.programme.models import (
        Event,
        Person,
        Room,
        Session,
        SessionPerson,
        Track,
    )

    rng = random.Random(600)
    tz = ZoneInfo("Europe/Paris")
    first_day = date(2030, 6, 4)
    event = Event(
        slug=slug,
        title="Forum généré pour le banc d'essai (600 sessions)",
        description="Programme synthétique pour mesurer la page programme à grande échelle.",
        venue="Palais des congrès",
        timezone="Europe/Paris",
        start_date=first_day,
        end_date=first_day + timedelta(days=days - 1),
    )
    db.session.add(event)
    room_rows = [Room(event=event, name=f"Salle {i + 1:02d}", capacity=rng.choice([30, 60, 120, 400]), position=i)
                 for i in range(rooms)]
    palette = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#0369a1", "#be185d", "#a16207", "#475569"]
    track_rows = [Track(event=event, name=f"Thématique {i + 1}", slug=f"thematique-{i + 1}", colour=palette[i])
                  for i in range(len(palette))]
    first_names = ["Claire", "Jamal", "Nadia", "Hugo", "Fatou", "Léa", "Romain", "Siham", "Pierre", "Marion",
                   "Yannick", "Aurélie", "Kamel", "Sophie", "Thomas", "Inès", "Karim", "Élodie", "Mathieu", "Awa"]
    last_names = ["Martin", "Benali", "Dumas", "Sow", "Tanguy", "Delcourt", "Hadjam", "Guillou", "Le Bihan",
                  "Morvan", "Gosselin", "Saddedine", "Lefebvre", "Roussel", "Khay", "Diallo", "Robert", "Petit"]
    orgs = ["Ville de Rennes", "Rennes Métropole", "Banque des Territoires", "BPI France", "ANCT",
            "Association Entreprendre", "CCI Bretagne", "Région Bretagne", "RésOVilles", "Coopérative Tiers-Lieux"]
    jobs = ["chargée de mission", "directeur du développement économique", "élue à la politique de la ville",
            "cheffe de projet", "délégué territorial", "présidente", "consultant"]
    person_rows = [
        Person(event=event, name=f"{rng.choice(first_names)} {rng.choice(last_names)} {i + 1}",
               job_title=rng.choice(jobs), organisation=rng.choice(orgs))
        for i in range(people)
    ]
    db.session.add_all(room_rows + track_rows + person_rows)
    kinds = ["workshop", "workshop", "experience", "round-table", "meeting", "plenary"]
    per_day = [sessions // days + (1 if d < sessions % days else 0) for d in range(days)]
    slot = timedelta(minutes=45)
    n = 0
    for d in range(days):
        day_start = datetime.combine(first_day + timedelta(days=d), datetime.min.time(), tz).replace(hour=8, minute=30)
        for i in range(per_day[d]):
            s, r = divmod(i, rooms)
            n += 1
            kind = rng.choice(kinds)
            starts = day_start + s * slot
            session = Session(
                event=event,
                code=f"G{n:03d}",
                title=f"{'Atelier' if kind == 'workshop' else 'Session'} {n} — "
                      f"{rng.choice(['Immobilier', 'Emploi', 'Commerce', 'Numérique', 'Europe', 'Mobilité'])} "
                      f"et {rng.choice(['quartiers', 'habitants', 'entreprises', 'territoires'])}",
                kind=kind,
                track=rng.choice(track_rows + [None]),
                room=room_rows[r],
                starts_at=starts.astimezone(ZoneInfo("UTC")),
                ends_at=(starts + timedelta(minutes=rng.choice([30, 45]))).astimezone(ZoneInfo("UTC")),
                abstract="Retours d'expérience et échanges entre collectivités, associations et entreprises. " * 2,
                signup_required=kind == "workshop",
                capacity=room_rows[r].capacity if kind == "workshop" else None,
            )
            roles = ["moderator"] + ["speaker"] * rng.randint(1, 3)
            for position, (role, person) in enumerate(zip(roles, rng.sample(person_rows, len(roles)))):
                session.people.append(SessionPerson(person=person, role=role, position=position))
            db.session.add(session)
    db.session.commit()


# --------------------------------------------------------------------------- measures


class QueryCounter:
    """Counts SQL statements sent on the app's engine."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args, **_kwargs):
        self.count += 1


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def time_requests(client, url: str, n: int, headers: dict | None = None, counter: QueryCounter | None = None,
                  *, cold: bool = True) -> dict:
    """cold: forget the worker's rendered pages before each request, so every one is a full render."""
    headers = {"Accept-Encoding": "gzip", **(headers or {})}

    def forget_rendered_pages():
        if cold:
            client.application.extensions.pop("forum_rendered_pages", None)

    first = client.get(url, headers=headers)
    for _ in range(min(5, n)):  # warm caches (templates, statements)
        client.get(url, headers=headers)
    timings = []
    queries_before = counter.count if counter else 0
    cpu_start = time.process_time()
    for _ in range(n):
        forget_rendered_pages()
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        response.get_data()
        timings.append((time.perf_counter() - start) * 1000)
    cpu_ms = (time.process_time() - cpu_start) * 1000 / n
    return {
        "cpu": cpu_ms,
        "url": url,
        "status": first.status_code,
        "bytes": len(first.get_data()),
        "p50": statistics.median(timings),
        "p95": percentile(timings, 95),
        "queries": ((counter.count - queries_before) / n) if counter else None,
    }


class AssetParser(HTMLParser):
    """Collects what a browser fetches on first load: stylesheets, scripts, images, icons."""

    def __init__(self):
        super().__init__()
        self.assets: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link":
            rel = (a.get("rel") or "").lower().split()
            if a.get("href") and ({"stylesheet", "icon", "preload", "modulepreload"} & set(rel)):
                self.assets.append(("/".join(rel), a["href"]))
        elif tag == "script" and a.get("src"):
            self.assets.append(("script" + (" module" if a.get("type") == "module" else ""), a["src"]))
        elif tag == "img" and a.get("src") and not a["src"].startswith("data:") and a.get("loading") != "lazy":
            self.assets.append(("img", a["src"]))


def body_bytes(response) -> tuple[int, int]:
    """(bytes on the wire, bytes it would take gzipped)."""
    data = response.get_data()
    wire = len(data)
    if response.headers.get("Content-Encoding") == "gzip":
        return wire, wire
    return wire, len(gzip.compress(data, 6))


def first_load(client, url: str) -> dict:
    headers = {"Accept-Encoding": "gzip, deflate, br"}
    page = client.get(url, headers=headers)
    html = page.get_data()
    if page.headers.get("Content-Encoding") == "gzip":
        html = gzip.decompress(html)
    parser = AssetParser()
    parser.feed(html.decode("utf-8"))
    wire, gz = body_bytes(page)
    rows = [("document", url, page.status_code, wire, gz, page.headers.get("Content-Encoding", "-"))]
    for kind, href in parser.assets:
        path = urlsplit(urljoin("http://localhost" + url, href))
        if path.netloc != "localhost":
            rows.append((kind, href, "external", 0, 0, "-"))
            continue
        target = path.path + (f"?{path.query}" if path.query else "")
        response = client.get(target, headers=headers)
        wire, gz = body_bytes(response)
        rows.append((kind, target, response.status_code, wire, gz, response.headers.get("Content-Encoding", "-")))
        response.close()
    return {
        "rows": rows,
        "requests": len(rows),
        "wire_bytes": sum(r[3] for r in rows),
        "gzip_bytes": sum(r[4] for r in rows),
    }


def repeat_visit(client, url: str, n: int) -> dict:
    headers = {"Accept-Encoding": "gzip"}
    first = client.get(url, headers=headers)
    etag = first.headers.get("ETag")
    cache_control = first.headers.get("Cache-Control", "-")
    if not etag:
        return {"etag": None, "status": first.status_code, "cache_control": cache_control, "p50": None}
    headers["If-None-Match"] = etag
    timings = []
    status = None
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        response.get_data()
        timings.append((time.perf_counter() - start) * 1000)
        status = response.status_code
    return {"etag": etag, "status": status, "cache_control": cache_control,
            "p50": statistics.median(timings), "p95": percentile(timings, 95)}


def profile(client, url: str, n: int = 20) -> str:
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        client.get(url, headers={"Accept-Encoding": "gzip"}).get_data()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(35)
    out.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


# --------------------------------------------------------------------------- throughput


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, db_path: Path, workers: int = 2):
        self.port = free_port()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.command = [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                        "--access-logfile", "/dev/null", "--error-logfile", "-", "--log-level", "warning",
                        "forum_app:create_app()"]
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": SECRET}
        env.pop("FORUM_NOW", None)
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.base + path, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        self.log.seek(0)
        raise RuntimeError("gunicorn did not start:\n" + self.log.read().decode(errors="replace")[-3000:])

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the master and its workers."""
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
            except (OSError, IndexError, ValueError):
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def wrk_load(url: str, seconds: int, connections: int) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", "Accept-Encoding: gzip", url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)

    def ms(match):
        if not match:
            return None
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {"rps": rps, "requests": total, "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "", "p50": ms(p50), "p99": ms(p99),
            "tool": " ".join(command[:-1]) + " URL"}


def python_load(url: str, seconds: int, connections: int) -> dict:
    """Fallback loader: `connections` threads with keep-alive HTTP/1.1, bounded in time."""
    import http.client

    parts = urlsplit(url)
    stop_at = time.monotonic() + seconds
    counts = [0] * connections
    bad = [0] * connections
    latencies: list[list[float]] = [[] for _ in range(connections)]

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            try:
                conn.request("GET", parts.path, headers={"Accept-Encoding": "gzip"})
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    bad[i] += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            except (OSError, http.client.HTTPException):
                bad[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            counts[i] += 1
            latencies[i].append((time.perf_counter() - start) * 1000)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 15)
    elapsed = time.monotonic() - start
    flat = [x for lst in latencies for x in lst]
    return {"rps": sum(counts) / elapsed, "requests": sum(counts), "non_2xx": sum(bad), "socket_errors": "",
            "p50": statistics.median(flat) if flat else None, "p99": percentile(flat, 99) if flat else None,
            "tool": f"python thread-pool loader, {connections} connections"}


def throughput(db_path: Path, paths: dict[str, str], seconds: int, connections: int) -> dict:
    loader = wrk_load if shutil.which("wrk") else python_load
    server = Gunicorn(db_path)
    results = {}
    try:
        server.wait_ready(next(iter(paths.values())))
        for name, path in paths.items():
            cpu_before = server.cpu_seconds()
            results[name] = loader(server.base + path, seconds, connections)
            cpu = server.cpu_seconds() - cpu_before
            results[name]["server_cpu_ms"] = cpu * 1000 / max(results[name]["requests"], 1)
    finally:
        server.stop()
    results["_command"] = " ".join([os.path.relpath(server.command[0], ROOT), *server.command[1:]])
    return results


# --------------------------------------------------------------------------- report


def fmt(value, unit="", digits=1):
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}{unit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--requests", type=int, default=200, help="in-process requests per page (default 200)")
    parser.add_argument("--seconds", type=int, default=10, help="load duration per URL (default 10, max 30)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections for the load test")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn throughput test")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the 600-session page")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget is missed")
    parser.add_argument("--write-results", action="store_true", help="rewrite bench/RESULTS.md with this run")
    args = parser.parse_args(argv)
    args.seconds = max(1, min(args.seconds, 30))
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        print(f"warning: the machine is busy (load average {LOADAVG_AT_START}): figures will be pessimistic",
              file=sys.stderr)

    workdir = Path(tempfile.mkdtemp(prefix="forum-bench-"))
    db_path = workdir / "bench.db"
    try:
        print(f"Building the databases in {db_path} ...", flush=True)
        started = time.perf_counter()
        app, demo_slug = build_database(db_path)
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
        demo_url, big_url = f"/e/{demo_slug}/", f"/e/{GENERATED_SLUG}/"
        css_url = "/static/css/app.css"

        from forum_app.extensions import db

        with app.app_context():
            counter = QueryCounter(db.engine)
        client = app.test_client()
        print(f"Server time, {args.requests} requests each (in-process) ...", flush=True)
        timing = {
            "css": time_requests(client, "/static/css/app.css", args.requests, counter=counter),
            "404": time_requests(client, "/e/no-such-event/", args.requests, counter=counter),
            "demo": time_requests(client, demo_url, args.requests, counter=counter),
            "big": time_requests(client, big_url, max(20, args.requests // 2), counter=counter),
            "demo_warm": time_requests(client, demo_url, args.requests, counter=counter, cold=False),
            "big_warm": time_requests(client, big_url, args.requests, counter=counter, cold=False),
        }
        weight = first_load(client, demo_url)
        weight_big = first_load(client, big_url)
        repeat = repeat_visit(client, demo_url, args.requests)
        repeat_big = repeat_visit(client, big_url, max(20, args.requests // 2))
        profile_text = profile(client, big_url) if args.profile else ""

        load = {}
        if not args.no_load:
            print(f"Throughput: gunicorn -w 2, {args.seconds} s per URL ...", flush=True)
            load = throughput(db_path, {"programme": demo_url, "programme_600": big_url, "css": css_url},
                              args.seconds, args.connections)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    base = timing["css"]["p50"]
    lines = []
    add = lines.append
    add("## Server time (in-process, Flask test client, Accept-Encoding: gzip)")
    add("")
    add(f"Load average when the run started: {LOADAVG_AT_START}.")
    add("")
    add("| page | status | bytes sent | p50 | p95 | CPU/request | x static p50 | SQL queries/request | budget p95 |")
    add("|---|---|---|---|---|---|---|---|---|")
    labels = {"css": "static /static/css/app.css (baseline)", "404": "unknown event (404 page)",
              "demo": f"demo programme {demo_url} (full render)", "big": f"600 sessions {big_url} (full render)",
              "demo_warm": "demo programme (worker's rendered-page cache)",
              "big_warm": "600 sessions (worker's rendered-page cache)"}
    budgets = {"demo": f"≤ {BUDGETS['p95_demo_ms']:.0f} ms", "big": f"≤ {BUDGETS['p95_600_ms']:.0f} ms"}
    for key, row in timing.items():
        add(f"| {labels[key]} | {row['status']} | {row['bytes']} | {fmt(row['p50'], ' ms', 2)} | "
            f"{fmt(row['p95'], ' ms', 2)} | {fmt(row['cpu'], ' ms', 2)} | {row['p50'] / base:.1f} | {fmt(row['queries'], '', 1)} | "
            f"{budgets.get(key, '')} |")
    add("")
    for title, w in (("demo programme", weight), ("600-session programme", weight_big)):
        add(f"## First load, {title} (as transferred with Accept-Encoding: gzip)")
        add("")
        add("| what | url | status | bytes transferred | gzipped would be | Content-Encoding |")
        add("|---|---|---|---|---|---|")
        for kind, url, status, wire, gz, enc in w["rows"]:
            add(f"| {kind} | {url} | {status} | {wire} | {gz} | {enc} |")
        add(f"| **total** | {w['requests']} requests | | **{w['wire_bytes'] / 1024:.1f} KB** | "
            f"{w['gzip_bytes'] / 1024:.1f} KB | |")
        add("")
    add("Not counted (fetched after the page is shown): the web app manifest, /favicon.ico, /sw.js and what the "
        "service worker stores.")
    add("")
    add("## Repeat visit (If-None-Match)")
    add("")
    add("| page | ETag | status | Cache-Control | p50 | p95 |")
    add("|---|---|---|---|---|---|")
    for label, r in ((demo_url, repeat), (big_url, repeat_big)):
        add(f"| {label} | {r['etag'] or 'none'} | {r['status']} | {r['cache_control']} | {fmt(r.get('p50'), ' ms', 2)} | "
            f"{fmt(r.get('p95'), ' ms', 2)} |")
    add("")
    if load:
        add(f"## Throughput (gunicorn 2 sync workers, loopback, {args.seconds} s per URL)")
        add("")
        add(f"Server: `{load['_command']}`; load: `{load['programme']['tool']}`")
        add("")
        add("| URL | requests/s | x static | latency p50 | latency p99 | non-2xx/3xx | socket errors "
            "| server CPU/request | 2 cores' worth |")
        add("|---|---|---|---|---|---|---|---|---|")
        for key, url in (("css", css_url), ("programme", demo_url), ("programme_600", big_url)):
            r = load[key]
            add(f"| {url} | {r['rps']:.0f} | {r['rps'] / load['css']['rps']:.2f} | {fmt(r['p50'], ' ms')} | "
                f"{fmt(r['p99'], ' ms')} | {r['non_2xx']} | {r['socket_errors'] or '-'} | "
                f"{fmt(r['server_cpu_ms'], ' ms', 2)} | {2000 / r['server_cpu_ms']:.0f} req/s |")
        add("")
        add("\"2 cores' worth\" = 2000 ms / server CPU per request: the rate two cores could serve if the "
            "workers had them to themselves (here the load tool shares them).")
        add("")

    checks = [
        ("p95 server time, demo programme", timing["demo"]["p95"], BUDGETS["p95_demo_ms"], "ms", "max",
         timing["demo"]["status"] == 200),
        ("p95 server time, 600 sessions", timing["big"]["p95"], BUDGETS["p95_600_ms"], "ms", "max",
         timing["big"]["status"] == 200),
        ("first load, transferred KB", weight["wire_bytes"] / 1024, BUDGETS["first_load_kb"], "KB", "max", True),
        ("first load, requests", weight["requests"], BUDGETS["first_load_requests"], "", "max", True),
        ("repeat visit answered 304", 1 if repeat["status"] == 304 else 0, 1, "", "min", True),
    ]
    if load:
        checks.append(("requests/s, programme (2 workers)", load["programme"]["rps"], BUDGETS["rps_programme"],
                       "req/s", "min", load["programme"]["non_2xx"] == 0))
    add("## Budgets")
    add("")
    add("| measure | figure | budget | verdict |")
    add("|---|---|---|---|")
    missed = []
    for name, value, budget, unit, sense, valid in checks:
        ok = valid and (value <= budget if sense == "max" else value >= budget)
        if not ok:
            missed.append(name)
        shown = "yes" if name.startswith("repeat") and value else "no" if name.startswith("repeat") else \
            f"{value:.1f} {unit}".strip() if isinstance(value, float) else f"{value} {unit}".strip()
        sign = "≤" if sense == "max" else "≥"
        add(f"| {name} | {shown} | {sign} {budget} {unit} | {'ok' if ok else 'MISSED' if valid else 'MISSED (errors)'} |")
    add("")
    report = "\n".join(lines)
    print()
    print(report)
    if profile_text:
        print("## cProfile, 600-session page x20\n")
        print(profile_text)

    if args.write_results:
        write_results(report, argv)
        print(f"Wrote {ROOT / 'bench' / 'RESULTS.md'}")
    if missed:
        print("Budgets missed: " + "; ".join(missed))
        return 1 if args.strict else 0
    print("All budgets met.")
    return 0


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk = shutil.which("wrk")
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0] if wrk else "missing"
    wrk_version = wrk_version.split(" Copyright")[0]
    return (f"nproc {os.cpu_count()}, {cpu or platform.processor()}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, wrk: {wrk_version.strip() or 'present'}")


def write_results(report: str, argv: list[str] | None) -> None:
    """Rewrite RESULTS.md with this run; a hand-written "## Analysis" section at its end is kept."""
    path = ROOT / "bench" / "RESULTS.md"
    previous = path.read_text() if path.exists() else ""
    analysis = previous[previous.index("## Analysis"):] if "## Analysis" in previous else ""
    args = " ".join(argv if argv is not None else sys.argv[1:])
    text = f"""# Benchmark results: the public programme page

Run on {datetime.now().strftime('%Y-%m-%d %H:%M')} — machine: {machine()}.

Command (from the repository root):

```
.venv/bin/python bench/programme_page.py {args}
```

The demo forum is the c3voc import of `forum_app/demo_data/citescap-programme.json`; the
600-session forum is generated by the script (3 days, 20 rooms, 300 people, 2-4 people per
session). Server time is measured in-process with the Flask test client (no network); the
throughput test runs gunicorn with 2 sync workers on loopback, with the load tool on the
same machine (so it shares the cores with the server).

{report}
"""
    path.write_text(text + ("\n" + analysis if analysis else ""))


if __name__ == "__main__":
    sys.exit(main())
