"""Speed and memory of the badge sheets: 1,000 badges into one A4-sheets PDF.

    .venv/bin/python bench/badges.py                    # print the figures (Markdown)
    .venv/bin/python bench/badges.py --strict           # exit 1 when a budget is missed (CI)
    .venv/bin/python bench/badges.py --breakdown        # add where the time goes
    .venv/bin/python bench/badges.py --count 2000       # another size

Budget (issue 3): 1,000 badges in one A4-sheets PDF in <= 20 s, peak memory <= 1 GB, on the
2-core machine. Each measured run is a fresh child process (so its peak resident memory,
`ru_maxrss`, is its own): it builds the demo forum and the generated registrations in an
in-memory SQLite database, renders 8 badges once to warm up (fonts, templates, CSS), then times
`select_for_printing` + `badge_sheets_pdf` as the organiser's download runs them. The same-run
baseline is the 8-badge sheet (one page), rendered warm in its own child. The parent then
checks the big PDF: page count, and the QR codes of its first and last pages decode (zxing-cpp)
and verify with the event's public key.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_SECONDS = 20.0
BUDGET_MB = 1024.0
BASELINE = 8

FIRST = ["Élodie", "Jean", "Marie-Christine", "Zoë", "Mohammed", "Анна", "Fatoumata", "Jean-Baptiste", "Léa", "Karim",
         "Nguyễn", "Sébastien", "Aïcha", "Françoise", "Paul", "Ísis", "Łukasz", "Chloé", "Yasmine", "Grégoire"]
LAST = ["Dupont-Moreau", "N'Diaye", "Œuvray", "محمد بن سلمان", "Иванова", "Traoré", "de La Rochefoucauld-Montmorency-Laval",
        "Martin", "Benali", "Le Goff", "Dubois", "Nowak", "Lefèvre", "García Márquez", "Van der Berg", "Haddad", "Roux",
        "Giraud-Lemaître", "Petit", "Ben Youssef"]
ORGS = ["Ville de Roubaix", "Préfecture du Nord", "Association Les Jardins d'Aïcha", "Entreprise Sàrl", "",
        "Agence nationale de la cohésion des territoires, direction régionale des Hauts-de-France",
        "Centre de ressources politique de la ville", "Métropole européenne de Lille", "BGE Hauts-de-France", "CCI Grand Lille"]
JOBS = ["Chargée de mission développement économique", "Maire", "Président", "", "Déléguée du préfet",
        "Directrice adjointe chargée de la politique de la ville et du renouvellement urbain", "Habitant du quartier",
        "Gérant", "Cheffe de projet", "Conseiller municipal délégué"]


# --- The child: one measured run ---


def child(count: int, pdf_path: str | None) -> dict:
    from forum_app import create_app
    from forum_app.badges import services
    from forum_app.extensions import db
    from forum_app.programme import imports
    from forum_app.registration.models import CATEGORIES, Registration

    started = time.perf_counter()
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_ENABLED": False}
    )
    with app.app_context():
        db.create_all()
        event = imports.import_schedule_file(ROOT / "forum_app" / "demo_data" / "citescap-programme.json").event
        rng = random.Random(20190606)
        for i in range(max(count, BASELINE)):
            email = f"personne{i}@example.org"
            db.session.add(
                Registration(
                    event_id=event.id,
                    first_name=rng.choice(FIRST),
                    last_name=rng.choice(LAST),
                    email=email,
                    email_key=email,
                    organisation=rng.choice(ORGS),
                    job_title=rng.choice(JOBS),
                    category=CATEGORIES[i % len(CATEGORIES)],
                    status="confirmed",
                    access_token=secrets.token_urlsafe(32),
                )
            )
        db.session.commit()
        everyone = services.select_for_printing(event, services.parse_selection("all"))
        setup_s = time.perf_counter() - started

        warm_started = time.perf_counter()
        services.badge_sheets_pdf(everyone[:BASELINE])  # fonts, templates, stylesheets
        warm_up_s = time.perf_counter() - warm_started
        rss_before_mb = _rss_mb()

        cpu_before = _cpu()
        t0 = time.perf_counter()
        selection = services.select_for_printing(event, services.parse_selection("all"))[:count]
        pdf = services.badge_sheets_pdf(selection)
        wall = time.perf_counter() - t0
        cpu = _cpu() - cpu_before
        if pdf_path:
            Path(pdf_path).write_bytes(pdf)
            Path(pdf_path + ".keys").write_text(json.dumps({k: v.hex() for k, v in services.public_keys(event).items()}))
        return {
            "count": count,
            "wall_s": wall,
            "cpu_s": cpu,
            "bytes": len(pdf),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_before_mb": rss_before_mb,
            "setup_s": setup_s,
            "warm_up_s": warm_up_s,
        }


def child_breakdown(count: int) -> dict:
    """The same steps as badge_sheets_pdf, timed one by one (a separate run: it renders twice)."""
    from flask import render_template
    from flask_babel import force_locale

    from forum_app import create_app
    from forum_app.badges import services
    from forum_app.extensions import db
    from forum_app.programme import imports
    from forum_app.registration.models import CATEGORIES, Registration

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        db.create_all()
        event = imports.import_schedule_file(ROOT / "forum_app" / "demo_data" / "citescap-programme.json").event
        rng = random.Random(20190606)
        for i in range(count):
            email = f"personne{i}@example.org"
            db.session.add(Registration(
                event_id=event.id, first_name=rng.choice(FIRST), last_name=rng.choice(LAST), email=email, email_key=email,
                organisation=rng.choice(ORGS), job_title=rng.choice(JOBS), category=CATEGORIES[i % len(CATEGORIES)],
                status="confirmed", access_token=secrets.token_urlsafe(32),
            ))
        db.session.commit()
        registrations = services.select_for_printing(event, services.parse_selection("all"))
        services.badge_sheets_pdf(registrations[:BASELINE])
        timings = {}
        t = time.perf_counter()
        signer = services._Signer(event)
        payloads = [signer.payload(r) for r in registrations]
        timings["sign payloads (Ed25519)"] = time.perf_counter() - t
        t = time.perf_counter()
        for payload in payloads:
            services.qr_data_uri(payload)
        timings["QR codes as PNG data URIs (matrix, mask fixed, PNG)"] = time.perf_counter() - t
        t = time.perf_counter()
        with force_locale("fr"):
            views = [services.badge_view(r, p, services.CELL_BOX) for r, p in zip(registrations, payloads, strict=True)]
            timings["badge views: fit the texts, labels (and the QR codes again)"] = time.perf_counter() - t
            t = time.perf_counter()
            pages = [views[i:i + 8] for i in range(0, len(views), 8)]
            html = render_template("badges/sheets.html", pages=pages, event=event, lang="fr")
            timings["Jinja template"] = time.perf_counter() - t
        from weasyprint import HTML

        t = time.perf_counter()
        document = HTML(string=html, url_fetcher=services._url_fetcher()).render(stylesheets=list(services._stylesheets()))
        timings["WeasyPrint: parse, style, lay out"] = time.perf_counter() - t
        t = time.perf_counter()
        document.write_pdf()
        timings["WeasyPrint: draw and write the PDF"] = time.perf_counter() - t
        return timings


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- The parent ---


def run_child(*args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False, cwd=ROOT, timeout=600
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"child {' '.join(args)} failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def check_pdf(path: str, count: int) -> str:
    """Page count, and the QR codes of the first and last pages decode and verify."""
    import pypdfium2 as pdfium
    import zxingcpp

    from forum_app.badges import domain

    keys = {int(k): bytes.fromhex(v) for k, v in json.loads(Path(path + ".keys").read_text()).items()}
    document = pdfium.PdfDocument(path)
    expected_pages = -(-count // 8)
    checked = 0
    for index in {0, len(document) - 1}:
        image = document[index].render(scale=150 / 72).to_pil()
        codes = [r.text for r in zxingcpp.read_barcodes(image)]
        expected = 8 if index < len(document) - 1 or count % 8 == 0 else count % 8
        assert len(codes) == expected, (index, len(codes), expected)
        for code in codes:
            domain.read_badge(code, keys)
            checked += 1
    assert len(document) == expected_pages, (len(document), expected_pages)
    return f"{len(document)} pages; the {checked} QR codes of the first and last pages decode (zxing-cpp) and verify (Ed25519)"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import weasyprint

    return (f"nproc {os.cpu_count()}, {cpu or platform.processor()}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget is missed")
    parser.add_argument("--breakdown", action="store_true", help="add a run timing each step")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-breakdown", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pdf", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child is not None:
        print(json.dumps(child(args.child, args.pdf)))
        return 0
    if args.child_breakdown is not None:
        print(json.dumps(child_breakdown(args.child_breakdown)))
        return 0

    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    baseline = run_child("--child", str(BASELINE))
    with tempfile.TemporaryDirectory() as tmp:
        pdf_path = os.path.join(tmp, "badges.pdf")
        big = run_child("--child", str(args.count), "--pdf", pdf_path)
        check = check_pdf(pdf_path, args.count)
    breakdown = run_child("--child-breakdown", str(args.count)) if args.breakdown else None

    def row(name: str, run: dict) -> str:
        per_badge = run["wall_s"] * 1000 / run["count"]
        return (f"| {name} | {run['count']} | {-(-run['count'] // 8)} | {run['bytes'] / 1024:.0f} KB | {run['wall_s']:.2f} s | "
                f"{run['cpu_s']:.2f} s | {per_badge:.1f} ms | {run['wall_s'] / baseline['wall_s']:.1f} | "
                f"{run['peak_rss_mb']:.0f} MB | {run['rss_before_mb']:.0f} MB |")

    ok_time = big["wall_s"] <= BUDGET_SECONDS
    ok_memory = big["peak_rss_mb"] <= BUDGET_MB
    lines = [
        f"## Badges: {args.count:,} badges into one A4-sheets PDF",
        "",
        (f"Run on {datetime.now().strftime('%Y-%m-%d %H:%M')} — machine: {machine()}. "
         f"Load average when the run started: {load}."),
        "",
        "Command (from the repository root):",
        "",
        "```",
        f".venv/bin/python bench/badges.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip(),
        "```",
        "",
        "Each run is a fresh child process (demo forum + generated registrations in in-memory SQLite: names in",
        "Latin with accents, Arabic and Cyrillic, long names and organisations, 8 categories), warmed up with one",
        "8-badge sheet; timed: `select_for_printing` + `badge_sheets_pdf` (sign, QR codes, fit the names, Jinja,",
        "WeasyPrint). Peak memory is the child's `ru_maxrss` (whole process: Python, Flask, the data, the PDF).",
        "",
        "| run | badges | pages | PDF | wall | CPU | per badge | x baseline | peak RSS | RSS before the render |",
        "|---|---|---|---|---|---|---|---|---|---|",
        row("baseline: one sheet", baseline),
        row("sheets for everyone", big),
        "",
        f"Check of the output: {check}.",
        "",
        "| budget | figure | limit | verdict |",
        "|---|---|---|---|",
        f"| time, {args.count:,} badges | {big['wall_s']:.1f} s | ≤ {BUDGET_SECONDS:.0f} s | {'ok' if ok_time else 'MISSED'} |",
        f"| peak memory | {big['peak_rss_mb']:.0f} MB | ≤ {BUDGET_MB:.0f} MB | {'ok' if ok_memory else 'MISSED'} |",
    ]
    if breakdown:
        lines += ["", f"Where the time goes ({args.count:,} badges, `--breakdown`, a separate run):", "",
                  "| step | seconds |", "|---|---|"]
        lines += [f"| {step} | {seconds:.2f} |" for step, seconds in breakdown.items()]
    print("\n".join(lines))
    return 1 if args.strict and not (ok_time and ok_memory) else 0


if __name__ == "__main__":
    sys.exit(main())
