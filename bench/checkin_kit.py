"""The door stations' check-in kit, built in-process: a worker that must build the roster (cold)
against one that kept it (warm), 1,000 registrations and 500 arrivals.

    .venv/bin/python bench/checkin_kit.py                   # SQLite file (WAL), ~30 s
    .venv/bin/python bench/checkin_kit.py --postgres        # a throwaway local PostgreSQL server
    .venv/bin/python bench/checkin_kit.py --registrations 3000 --arrivals 2000 --repeat 50
    .venv/bin/python bench/checkin_kit.py --write-results   # also replace its section of RESULTS.md

The forum is the event-morning benchmark's (bench/event_morning.py: the demo programme moved to
today, confirmed registrations through `register_many`, 40 % with a morning workshop, 30 % an
afternoon one), then `--arrivals` badges scanned through `checkin.services.check_in`. Each round
times `kit.checkin_kit` (the version: fingerprint, arrivals, keys, sessions; and for cold rounds
the roster), then the body as the view sends it (`Kit.json()` and gzip level 6). Cold rounds empty
the worker's copy first; warm rounds keep it. The baseline in the same run is the cold build:
the ratio warm / cold is what the worker's copy saves, whatever the machine's speed.
Budget: a warm kit (version + body + gzip) ≤ 25 ms, a cold one ≤ 100 ms (the event-morning
budget for the whole request is p95 ≤ 100 ms under load).
"""
from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from event_morning import build_database, staff_email
from harness import SECRET, run_on_database, uses_postgres, write_section

BUDGET_WARM_MS = 25.0
BUDGET_COLD_MS = 100.0


def scan_arrivals(url: str, slug: str, attendees, count: int) -> None:
    from forum_app import create_app
    from forum_app.auth.models import User
    from forum_app.checkin import services
    from forum_app.extensions import db
    from forum_app.programme.services import get_event

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        event = get_event(slug)
        volunteer = db.session.scalar(db.select(User).where(User.email == staff_email("porte", 1)))
        for attendee in attendees[:count]:
            services.check_in(
                event, badge=attendee.badge, client_id=str(uuid.uuid4()), station="porte 1",
                scanned_at=datetime.now(UTC).isoformat(), user=volunteer,
            )
        db.session.remove()
        db.engine.dispose()


def measure(url: str, slug: str, repeat: int) -> dict:
    from forum_app import create_app
    from forum_app.checkin import kit
    from forum_app.extensions import db
    from forum_app.programme.services import get_event

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    figures = {}
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        event = get_event(slug)
        for label, keep in (("cold", False), ("warm", True)):
            builds, bodies = [], []
            for _ in range(repeat):
                if not keep:
                    app.extensions.pop("forum_app.checkin_kit", None)
                db.session.expire_all()
                start = time.perf_counter()
                built = kit.checkin_kit(event)
                builds.append(time.perf_counter() - start)
                start = time.perf_counter()
                body = built.json().encode()
                gzip.compress(body, compresslevel=6)
                bodies.append(time.perf_counter() - start)
            figures[label] = {
                "build": statistics.median(builds) * 1000,
                "body": statistics.median(bodies) * 1000,
                "bytes": len(body),
                "people": len(built.roster.entries),
                "arrived": len(built.arrived),
            }
        db.session.remove()
        db.engine.dispose()
    return figures


def run(args) -> tuple[str, bool]:
    with tempfile.TemporaryDirectory(prefix="bench-kit-") as workdir:
        url = args.database_url or f"sqlite:///{workdir}/kit.sqlite"
        slug, attendees, _ = build_database(url, args.registrations, 1, 0, 0, Path(workdir))
        scan_arrivals(url, slug, attendees, args.arrivals)
        figures = measure(url, slug, args.repeat)
    cold, warm = figures["cold"], figures["warm"]
    cold_total, warm_total = cold["build"] + cold["body"], warm["build"] + warm["body"]
    missed = warm_total > BUDGET_WARM_MS or cold_total > BUDGET_COLD_MS
    database = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    def verdict(total: float, budget: float) -> str:
        return f"≤ {budget:.0f} ms: {'ok' if total <= budget else 'MISSED'}"

    lines = [
        (f"{database}, {warm['people']} people in the roster, {warm['arrived']} arrived; kit body "
         f"{warm['bytes']:,} bytes; median of {args.repeat} rounds each, in-process."),
        "",
        "| worker | version (fingerprint, arrivals, keys, sessions; roster when cold) | body + gzip | total | × cold | budget |",
        "|---|---|---|---|---|---|",
        (f"| cold (builds the roster: the baseline) | {cold['build']:.1f} ms | {cold['body']:.1f} ms | "
         f"{cold_total:.1f} ms | × 1.00 | {verdict(cold_total, BUDGET_COLD_MS)} |"),
        (f"| warm (keeps the roster) | {warm['build']:.1f} ms | {warm['body']:.1f} ms | {warm_total:.1f} ms | "
         f"× {warm_total / cold_total:.2f} | {verdict(warm_total, BUDGET_WARM_MS)} |"),
    ]
    return "\n".join(lines), missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=1000)
    parser.add_argument("--arrivals", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", action="store_true", help="a throwaway local PostgreSQL server")
    parser.add_argument("--database-url", help="an empty database to use (it is wiped)")
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget is missed")
    args = parser.parse_args(argv)
    if not 1 <= args.registrations <= 10000 or not 0 <= args.arrivals <= args.registrations or not 1 <= args.repeat <= 500:
        parser.error("1 <= --registrations <= 10000, 0 <= --arrivals <= --registrations, 1 <= --repeat <= 500")
    report, missed = run_on_database(args, run)
    print(report)
    if args.write_results:
        postgres = uses_postgres(args)
        write_section(
            "bench/checkin_kit.py --postgres" if postgres else "bench/checkin_kit.py",
            f"## Check-in kit ({'PostgreSQL' if postgres else 'SQLite'}): "
            f"{args.registrations} registrations, {args.arrivals} arrived, cold and warm worker",
            report,
        )
        print("\nWrote bench/RESULTS.md")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
