"""The post-event report's four outputs on a big forum: 40 sessions × 50 note items and 100 photos.

    .venv/bin/python bench/report.py                    # generate, build every output, print the figures
    .venv/bin/python bench/report.py --strict           # exit 1 when a budget is missed
    .venv/bin/python bench/report.py --write-results    # also replace the "Report" section of RESULTS.md
    .venv/bin/python bench/report.py --keep /tmp/out    # keep the files built (to open the PDF and the Word file)
    .venv/bin/python bench/report.py --workdir /tmp/rb  # keep the generated forum there; the next run reuses it
    .venv/bin/python bench/report.py --only html,md     # some outputs only (document, html, pdf, docx, md)
    .venv/bin/python bench/report.py --repeat 3         # 3 fresh processes per measure: the median, and the spread
    .venv/bin/python bench/report.py --profile          # add a cProfile of every output over 80 % of its time budget
    .venv/bin/python bench/report.py --postgres         # the same on a throwaway local PostgreSQL server

What it does, in a temporary folder (never the instance database nor its uploads):

  (a) the baseline forum: the demo (programme, Hauts-de-France delegation, the 61 demo notes,
      then the demo report with its three illustrations, as `flask demo load` makes it: 11
      sections, ~65 items);
  (b) the big forum, generated (deterministic): 40 sessions over two days in 8 rooms with 2-4
      people each; 50 note items per session written through notes.services.add_item in the
      capture page's proportions (key points 34 %, quotes 22 %, proposals 14 %, questions 14 %,
      figures 16 %), French sentences of realistic lengths made from the demo notes, a quarter
      highlighted, quotes attributed to the session's people or to someone from the floor; their
      consent rows (approved, amended, refused, not asked); 100 photos on top (JPEG 1600 × 1067
      made of gradients, blurred shapes and grain so they weigh what photos weigh, stored through
      notes.photos.store, with captions and credits), one of them the cover; the report's texts,
      a summary for one session in three; 600 confirmed registrations in 8 delegations, 85 %
      checked in at the entrance;
  (c) each measure in a FRESH Python process (so its peak memory is that build's alone, read
      with resource.getrusage(RUSAGE_SELF).ru_maxrss in that process): the draft document
      (report.services.draft_document), then the output through report.outputs.build: HTML
      (the public page, inside a request as the site serves it), PDF, Word, Markdown. The
      renderer module is imported before the clock starts (its import time is printed apart);
      the figure judged is the document plus the output, the first build in that process (a
      cold worker: template compilation and font loading included).

Budgets (issue 7), on the big forum: HTML ≤ 2 s, PDF ≤ 30 s, Word ≤ 5 s, peak memory ≤ 1 GB for
every output. Every figure is printed beside the same measure on the demo report, built in the
same run on the same machine, as a ratio.
"""
from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import json
import os
import platform
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import SECRET, run_on_database, uses_postgres, write_section

BIG_SLUG = "bench-report"
SESSIONS, ITEMS_PER_SESSION, PHOTOS, REGISTRATIONS = 40, 50, 100, 600
PHOTO_SIZE = (1600, 1067)
OUTPUTS = ("document", "html", "pdf", "docx", "md")
RENDERERS = {"html": "forum_app.report.html", "pdf": "forum_app.report.pdf", "docx": "forum_app.report.word",
             "md": "forum_app.report.markdown_out"}
LABELS = {"document": "draft document (assemble)", "html": "HTML page", "pdf": "PDF", "docx": "Word (.docx)",
          "md": "Markdown"}
BUDGET_SECONDS = {"html": 2.0, "pdf": 30.0, "docx": 5.0}
BUDGET_MEMORY_MB = 1024.0
CHILD_TIMEOUT = 900

# The capture page's mix of kinds (photos come on top).
KIND_WEIGHTS = {"key_point": 34, "quote": 22, "proposal": 14, "question": 14, "figure": 16}
LENGTHS = {"key_point": (90, 600), "quote": (70, 320), "proposal": (80, 360), "question": (50, 240),
           "figure": (50, 220)}
APPROVAL_MIX = {"approved": 65, "amended": 10, "refused": 5, "not_asked": 20}
CATEGORIES = ["collectivite", "collectivite", "association", "centre_ressources", "etat", "entreprise", "elu",
              "habitant", "autre"]
TERRITORIES = ["Rennes", "Nantes", "Lorient", "Brest", "Angers", "Dunkerque", "Valenciennes", "Lille", "Marseille",
               "Lyon", "Toulouse", "Saint-Nazaire"]


def environment(url: str, uploads: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "NOTES_UPLOAD_DIR": str(uploads)}
    env.pop("FORUM_NOW", None)
    return env


def make_app(url: str, uploads: Path):
    from forum_app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "NOTES_UPLOAD_DIR": str(uploads),
                       "RATELIMIT_ENABLED": False, "FORUM_NOW": None})


# --------------------------------------------------------------------------- the data


class Corpus:
    """French sentences from the demo notes, put together to the lengths asked."""

    def __init__(self, rng: random.Random):
        from forum_app.notes import demo

        self.rng = rng
        sentences: list[str] = []
        for entry in demo.read_items():
            for part in entry["text"].replace(" ? ", "?|").replace(". ", ".|").replace(" : ", " :|").split("|"):
                part = part.strip()
                if len(part) > 25:
                    sentences.append(part if part[-1] in ".?!:" else part + ".")
        self.sentences = sentences

    def text(self, low: int, high: int) -> str:
        wanted = self.rng.randint(low, high)
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < wanted:
            words.append(self.rng.choice(self.sentences))
        text = " ".join(words)
        if len(text) > high:
            text = text[:high].rsplit(" ", 1)[0].rstrip(" ,;:") + "."
        return text[0].upper() + text[1:]


_GRAINS: list = []


def _grain():
    from PIL import Image

    if not _GRAINS:
        width, height = PHOTO_SIZE
        channels = []
        for _ in range(3):
            coarse = Image.effect_noise((width // 3, height // 3), 50).resize((width, height), Image.Resampling.BICUBIC)
            channels.append(Image.blend(coarse, Image.effect_noise((width, height), 24), 0.5))
        _GRAINS.append(Image.merge("RGB", channels))
    return _GRAINS[0]


def photograph(rng: random.Random) -> bytes:
    """A 1600 × 1067 JPEG that compresses like a photograph: a sky-to-ground gradient, soft
    blurred shapes (people, walls, chairs), grain at two scales."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    width, height = PHOTO_SIZE
    top = tuple(rng.randint(90, 220) for _ in range(3))
    bottom = tuple(rng.randint(20, 120) for _ in range(3))
    column = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / (height - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    image = column.resize((width, height))
    shapes = Image.new("RGB", (width // 4, height // 4))
    pen = ImageDraw.Draw(shapes)
    shapes.paste(image.resize(shapes.size))
    for _ in range(rng.randint(25, 60)):
        x, y = rng.randrange(shapes.width), rng.randrange(shapes.height)
        w, h = rng.randint(8, 90), rng.randint(15, 140)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        (pen.ellipse if rng.random() < 0.5 else pen.rectangle)((x, y, x + w, y + h), fill=colour)
    shapes = shapes.filter(ImageFilter.GaussianBlur(2.5)).resize((width, height), Image.Resampling.BICUBIC)
    image = Image.blend(image, shapes, 0.7)
    # Texture and sensor grain, a little different in each channel (colour noise, as phones have):
    # one grain made once, shifted by a random offset for each photo.
    grain = ImageChops.offset(_grain(), rng.randrange(width), rng.randrange(height))
    image = Image.blend(image, grain, 0.3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def generate_forum(slug: str, uploads: Path) -> dict:
    """The big forum and its draft report (see the module docstring); what was made."""
    from forum_app.auth import services as auth_services
    from forum_app.checkin.models import CheckIn
    from forum_app.extensions import db
    from forum_app.notes import photos
    from forum_app.notes import services as notes_services
    from forum_app.programme.models import Event, Person, Room, Session, SessionPerson
    from forum_app.registration.models import Delegation, Registration
    from forum_app.report import demo as report_demo
    from forum_app.report import services as report_services
    from forum_app.report.models import QuoteApproval, ReportSection

    rng = random.Random(40 * 50)
    corpus = Corpus(rng)
    tz = ZoneInfo("Europe/Paris")
    first_day = date(2031, 6, 5)
    event = Event(slug=slug, title="Forum généré pour le banc d'essai du rapport (40 sessions)",
                  description="Forum synthétique : 40 sessions, 2 000 notes, 100 photos.", venue="Palais des congrès",
                  timezone="Europe/Paris", start_date=first_day, end_date=first_day + timedelta(days=1))
    db.session.add(event)
    rooms = [Room(event=event, name=f"Salle {name}", capacity=rng.choice([40, 80, 150]), position=i)
             for i, name in enumerate(["Vilaine", "Ille", "Rance", "Couesnon", "Loire", "Erdre", "Sèvre", "Amphithéâtre"])]
    first_names = ["Claire", "Jamal", "Nadia", "Hugo", "Fatou", "Léa", "Romain", "Siham", "Pierre", "Marion",
                   "Yannick", "Aurélie", "Kamel", "Sophie", "Thomas", "Inès", "Karim", "Élodie", "Mathieu", "Awa"]
    last_names = ["Martin", "Benali", "Dumas", "Sow", "Tanguy", "Delcourt", "Hadjam", "Guillou", "Le Bihan",
                  "Morvan", "Gosselin", "Saddedine", "Lefebvre", "Roussel", "Khay", "Diallo", "Robert", "Petit"]
    organisations = ["Ville de Rennes", "Rennes Métropole", "Banque des Territoires", "Bpifrance", "ANCT",
                     "Entreprendre Ensemble", "CCI Bretagne", "Région Bretagne", "RésOVilles", "IREV",
                     "Coopérative d'activité et d'emploi Élan", "Association Horizon", "Nantes Métropole"]
    jobs = ["Chargée de mission développement économique", "Directeur du développement économique",
            "Élue à la politique de la ville", "Cheffe de projet renouvellement urbain", "Délégué du préfet",
            "Présidente", "Chargé d'études", "Coordinatrice"]
    people = [Person(event=event, name=f"{rng.choice(first_names)} {rng.choice(last_names)}",
                     job_title=rng.choice(jobs), organisation=rng.choice(organisations)) for _ in range(90)]
    db.session.add_all(rooms + people)
    kinds = ["workshop", "workshop", "workshop", "round-table", "experience", "plenary"]
    themes = ["Immobilier d'entreprise", "Entreprendre depuis les quartiers", "Numérique et usages",
              "Programmes européens", "Innovation sociale", "Mobiliser les habitants", "Commerce de proximité",
              "Emploi des jeunes", "Commande publique", "Économie sociale et solidaire"]
    sessions = []
    for n in range(SESSIONS):
        day, slot = divmod(n, SESSIONS // 2)
        wave, room = divmod(slot, len(rooms))
        kind = rng.choice(kinds)
        starts = datetime.combine(first_day + timedelta(days=day), datetime.min.time(), tz).replace(hour=9) + wave * timedelta(hours=2, minutes=15)
        session = Session(
            event=event, code=f"R{n + 1:02d}",
            title=f"{'Atelier' if kind == 'workshop' else 'Table ronde' if kind == 'round-table' else 'Session'} "
                  f"{n + 1} — {rng.choice(themes)} : {corpus.text(20, 60).rstrip('.')}",
            kind=kind, room=rooms[room], starts_at=starts.astimezone(UTC),
            ends_at=(starts + timedelta(minutes=rng.choice([60, 90, 120]))).astimezone(UTC),
            abstract=corpus.text(150, 400),
        )
        roles = ["moderator"] + ["speaker"] * rng.randint(1, 3)
        for position, (role, person) in enumerate(zip(roles, rng.sample(people, len(roles)), strict=True)):
            session.people.append(SessionPerson(person=person, role=role, position=position))
        db.session.add(session)
        sessions.append(session)
    db.session.commit()
    organiser = auth_services.ensure_user("organisatrice@bench-report.example", "bench-report-password",
                                          name="Organisatrice", event=event, role="organiser")

    # Notes, through the capture's use case, in the order they were said.
    kind_pool = [kind for kind, weight in KIND_WEIGHTS.items() for _ in range(weight)]
    counts = {kind: 0 for kind in (*KIND_WEIGHTS, "photo")}
    quotes: list[int] = []
    started = time.perf_counter()
    for session in sessions:
        speakers = [sp.person_id for sp in session.people]
        moment = session.starts_at
        for i in range(ITEMS_PER_SESSION):
            kind = rng.choice(kind_pool)
            moment += timedelta(seconds=rng.randint(20, 100))
            body = {"client_id": f"bench-{session.code}-{i:03d}", "kind": kind, "text": corpus.text(*LENGTHS[kind]),
                    "captured_at": moment.isoformat(), "highlighted": rng.random() < 0.25}
            if kind == "quote":
                chance = rng.random()
                if chance < 0.7:
                    body["attribution"] = {"person_id": rng.choice(speakers)}
                elif chance < 0.9:
                    body["attribution"] = {"name": f"{rng.choice(first_names)} {rng.choice(last_names)}",
                                           "job_title": rng.choice(jobs), "organisation": rng.choice(organisations)}
            saved = notes_services.add_item(event, session, organiser, body)
            counts[kind] += 1
            if kind == "quote" and "attribution" in body:
                quotes.append(saved.item["id"])
    notes_seconds = time.perf_counter() - started

    started = time.perf_counter()
    photo_ids = []
    photo_bytes = 0
    for n in range(PHOTOS):
        session = sessions[n % len(sessions)]
        stored = photos.store(event.id, io.BytesIO(photograph(rng)))
        photo_bytes += photos.path_of(event.id, stored["file"]).stat().st_size
        body = {"client_id": f"bench-photo-{n:03d}", "kind": "photo", "text": corpus.text(40, 160),
                "captured_at": (session.starts_at + timedelta(minutes=rng.randint(5, 55))).isoformat(),
                "highlighted": rng.random() < 0.3}
        credit = f"{rng.choice(first_names)} {rng.choice(last_names)}"
        photo_ids.append(notes_services.add_item(event, session, organiser, body, photo={**stored, "credit": credit}).item["id"])
        counts["photo"] += 1
    photos_seconds = time.perf_counter() - started

    # The report: texts, cover, summaries, consents (rows written directly: record_consent builds
    # the whole draft for each quote, which would make the set-up minutes long).
    texts = report_demo.read_settings()
    report = report_services.get_report(event)
    for name in ("lead", "organised_by", "introduction_md", "conclusion_md", "next_steps_md", "links_md"):
        setattr(report, name, texts[name])
    report.title = "Forum généré : retour sur 40 sessions"
    report.cover_item_id = photo_ids[0]
    for session in sessions[::3]:
        db.session.add(ReportSection(report_id=report.id, session_id=session.id, summary_md=corpus.text(200, 500)))
    approval_pool = [state for state, weight in APPROVAL_MIX.items() for _ in range(weight)]
    from forum_app.notes.models import NoteItem

    consents = {state: 0 for state in APPROVAL_MIX}
    for note in db.session.scalars(db.select(NoteItem).where(NoteItem.id.in_(quotes))):
        state = rng.choice(approval_pool)
        consents[state] += 1
        if state == "not_asked":
            continue
        amended = state == "amended"
        db.session.add(QuoteApproval(
            report_id=report.id, note_item_id=note.id, state=state, email="personne@bench.example",
            text_sent=note.text, attribution_sent=note.attribution_name,
            final_text=(note.text[: len(note.text) // 2].rstrip() + ".") if amended else (note.text if state == "approved" else ""),
            final_job_title="Directrice" if amended else "", comment="", answered_at=datetime.now(UTC),
        ))

    # Who came: 600 confirmed registrations in 8 delegations, 85 % checked in at the entrance.
    delegations = [Delegation(event_id=event.id, name=f"Délégation {territory}", territory=territory)
                   for territory in TERRITORIES[:8]]
    db.session.add_all(delegations)
    db.session.flush()
    morning = datetime.combine(first_day, datetime.min.time(), tz).replace(hour=8, minute=30)
    registrations = []
    for n in range(REGISTRATIONS):
        territory = rng.choice(TERRITORIES)
        delegation = next((d for d in delegations if d.territory == territory), None) if rng.random() < 0.4 else None
        registrations.append(Registration(
            event_id=event.id, first_name=rng.choice(first_names), last_name=rng.choice(last_names),
            email=f"personne{n}@bench.example", email_key=f"personne{n}@bench.example",
            organisation=f"{rng.choice(organisations)}" + (f" ({territory})" if rng.random() < 0.5 else ""),
            job_title=rng.choice(jobs), category=rng.choice(CATEGORIES), territory=territory,
            delegation_id=delegation.id if delegation else None, status="confirmed", source="import",
            access_token=f"bench-token-{n:06d}",
        ))
    db.session.add_all(registrations)
    db.session.flush()
    for registration in registrations:
        if rng.random() < 0.85:
            scanned = morning + timedelta(seconds=rng.randrange(90 * 60))
            db.session.add(CheckIn(event_id=event.id, registration_id=registration.id, client_id=f"bench-in-{registration.id}",
                                   station="Accueil", outcome="checked_in", method="badge", scanned_at=scanned,
                                   received_at=scanned + timedelta(seconds=2)))
    db.session.commit()
    return {"notes": counts, "consents": consents, "notes_seconds": notes_seconds, "photos_seconds": photos_seconds,
            "photo_mb": photo_bytes / 1e6}


def build_database(url: str, uploads: Path) -> dict:
    """The demo forum with its published demo report, and the generated forum; what was made."""
    from forum_app.extensions import db

    app = make_app(url, uploads)
    with app.app_context():
        db.drop_all()  # PostgreSQL: a run starts from an empty database
        db.create_all()
        from forum_app import cli
        from forum_app.auth import services as auth_services
        from forum_app.notes import demo as notes_demo
        from forum_app.programme import imports
        from forum_app.report import demo as report_demo

        started = time.perf_counter()
        event = imports.import_schedule_file(app.config["DEMO_DATA"]).event
        demo_slug = event.slug
        auth_services.ensure_user(cli.DEMO_ORGANISER_EMAIL, cli.DEMO_ORGANISER_PASSWORD, name="Organisatrice démo",
                                  event=event, role="organiser")
        cli._load_demo_delegation(event)
        notes_demo.load_demo_notes(event)
        report_demo.load_demo_report(event)
        demo_seconds = time.perf_counter() - started
        started = time.perf_counter()
        made = generate_forum(BIG_SLUG, uploads)
        made.update(demo_slug=demo_slug, demo_seconds=demo_seconds, big_seconds=time.perf_counter() - started)
        db.session.remove()
        db.engine.dispose()
    return made


# --------------------------------------------------------------------------- one measure (child process)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child(spec: dict) -> dict:
    """Build the draft document of `slug`, then `what` (an output format), in this process."""
    from flask import url_for

    app = make_app(spec["url"], Path(spec["uploads"]))
    what, slug = spec["what"], spec["slug"]
    result: dict = {"what": what}
    with app.app_context():
        from forum_app.report import domain, outputs, services

        started = time.perf_counter()
        if what in RENDERERS:
            importlib.import_module(RENDERERS[what])
        result["import_s"] = time.perf_counter() - started
        event = services.event_by_slug(slug)
        result["start_mb"] = peak_mb()
        profiler = cProfile.Profile() if spec.get("profile") else None
        if profiler:
            profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        document = services.draft_document(event)
        result["document_s"] = time.perf_counter() - started
        output = None
        if what != "document":
            with app.test_request_context(f"/e/{slug}/report"):
                started = time.perf_counter()
                output = outputs.build(
                    document, what,
                    photo_url=lambda name: url_for("report.photo", slug=slug, name=name),
                    photo_path=services.photo_resolver(event),
                )
                result["output_s"] = time.perf_counter() - started
        else:
            result["output_s"] = 0.0
        result["cpu_s"] = time.process_time() - cpu  # this process's CPU time for document + output
        if profiler:
            profiler.disable()
            cumulative, own = io.StringIO(), io.StringIO()
            pstats.Stats(profiler, stream=cumulative).sort_stats("cumulative").print_stats(30)
            pstats.Stats(profiler, stream=own).sort_stats("tottime").print_stats(20)
            result["profile"] = cumulative.getvalue() + "\n--- by own time ---\n" + own.getvalue()
        result["total_s"] = result["document_s"] + result["output_s"]
        result["peak_mb"] = peak_mb()
        result["sections"] = len(document.sections)
        result["items"] = sum(len(s.items) for s in document.sections)
        result["photos"] = len(document.photos)
        if output is None:
            result["bytes"] = len(json.dumps(domain.to_dict(document)))  # as a snapshot would store it
        else:
            result["bytes"] = len(output.data)
            if spec.get("keep"):
                Path(spec["keep"]).mkdir(parents=True, exist_ok=True)
                (Path(spec["keep"]) / f"{slug}.{what}").write_bytes(output.data)
            if what == "pdf":
                import pypdfium2

                pdf = pypdfium2.PdfDocument(output.data)
                result["pages"] = len(pdf)
                pdf.close()
    return result


def measure(spec: dict, env: dict) -> dict:
    """One child process; its JSON answer, or {"error": ...}."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"what": spec["what"], "error": f"no answer within {CHILD_TIMEOUT} s"}
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"what": spec["what"], "error": (done.stderr or done.stdout).strip()[-1500:]}
    answer = json.loads(lines[-1])
    answer["process_s"] = wall
    return answer


def set_up(url: str, uploads: Path, env: dict) -> dict:
    """build_database in a child process too: this process stays small (it never imports the app),
    so the processes it starts begin small (Linux keeps a process's peak RSS across fork and exec)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--setup", json.dumps({"url": url, "uploads": str(uploads)})]
    done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError("set-up failed:\n" + (done.stderr or done.stdout)[-3000:])
    return json.loads(lines[-1])


# --------------------------------------------------------------------------- the run


def fmt_s(value) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def spread(got: dict) -> str:
    low_high = got.get("spread")
    return f" ({fmt_s(low_high[0])} – {fmt_s(low_high[1])})" if low_high else ""


def ratio(big, small) -> str:
    if not big or not small:
        return "–"
    return f"× {big / small:.1f}"


def run(args) -> tuple[str, list[str], dict]:
    loadavg = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    missed: list[str] = []
    results: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        uploads = workdir / "uploads"
        url = args.database_url or f"sqlite:///{workdir / 'forum.db'}"
        env = environment(url, uploads)
        started = time.perf_counter()
        saved = workdir / "made.json"
        if args.workdir and saved.exists() and not args.database_url:
            made = json.loads(saved.read_text()) | {"reused": True}  # generated by an earlier run with this --workdir
        else:
            made = set_up(url, uploads, env)
            saved.write_text(json.dumps(made))
        setup_seconds = time.perf_counter() - started
        slugs = {"demo": made["demo_slug"], "big": BIG_SLUG}
        for what in args.only:
            if what in RENDERERS and not (ROOT / (RENDERERS[what].replace(".", "/") + ".py")).exists():
                for case in slugs:
                    results[(case, what)] = {"what": what, "error": f"{RENDERERS[what]} does not exist yet"}
                continue
            for case, slug in slugs.items():
                spec = {"url": url, "uploads": str(uploads), "slug": slug, "what": what, "keep": args.keep}
                runs = []
                for _ in range(args.repeat):
                    runs.append(measure(spec, env))
                    print(f"  {case:>4} {what:<8} {summary_line(runs[-1])}", file=sys.stderr, flush=True)
                    if "error" in runs[-1]:
                        break
                results[(case, what)] = median_run(runs)
        profiles = {}
        if args.profile:
            for what in args.only:
                got = results.get(("big", what), {})
                over = what in BUDGET_SECONDS and "total_s" in got and got["total_s"] > 0.8 * BUDGET_SECONDS[what]
                if over or args.profile_all:
                    spec = {"url": url, "uploads": str(uploads), "slug": BIG_SLUG, "what": what, "profile": True}
                    profiles[what] = measure(spec, env).get("profile", "(no profile)")

    lines = [
        (f"Run on {datetime.now().strftime('%Y-%m-%d %H:%M')} — machine: nproc {os.cpu_count()}, "
         f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
         f"load average at start {loadavg}."),
        "",
        "```",
        f".venv/bin/python bench/report.py {' '.join(sys.argv[1:])}".rstrip(),
        "```",
        "",
        (f"{database_label(args)}. Generated forum: {SESSIONS} sessions × {ITEMS_PER_SESSION} note items "
         f"({', '.join(f'{k} {v}' for k, v in made['notes'].items() if k != 'photo')}) through notes.services.add_item "
         f"in {made['notes_seconds']:.1f} s, plus {made['notes']['photo']} photos ({PHOTO_SIZE[0]} × {PHOTO_SIZE[1]} "
         f"JPEG, {made['photo_mb']:.1f} MB stored, {made['photo_mb'] / max(made['notes']['photo'], 1) * 1000:.0f} KB "
         f"each) through notes.photos.store in {made['photos_seconds']:.1f} s; named quotes' consent: "
         f"{', '.join(f'{k} {v}' for k, v in made['consents'].items())}; {REGISTRATIONS} registrations, 85 % "
         f"checked in. Baseline: the demo report as `flask demo load` publishes it. "
         + ("Forum reused from an earlier run (--workdir)." if made.get("reused") else f"Set-up {setup_seconds:.0f} s.")),
        "",
        ("Each line is one fresh Python process: it imports the renderer (time apart), builds the draft "
         "document (report.services.draft_document), then the output through report.outputs.build; peak memory = "
         "that process's ru_maxrss (the interpreter, the app and this one build); \"process before the build\" = "
         "its ru_maxrss once the app and the renderer are imported. Times are wall-clock (judged against the "
         "budgets); the CPU column is that process's own CPU time for the same work, which other processes "
         f"on a shared machine do not inflate (load average at start {loadavg}, at the end {{end_load}})."),
        "",
        ("| output | report | sections / items / photos | document | output | document + output | x demo | CPU | "
         "size | renderer import | process before the build | peak memory | x demo | budget | verdict |"),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for what in args.only:
        demo, big = results.get(("demo", what), {}), results.get(("big", what), {})
        for case, got in (("demo", demo), ("big", big)):
            label = "demo (baseline)" if case == "demo" else f"generated ({SESSIONS} × {ITEMS_PER_SESSION} + {PHOTOS} photos)"
            if "error" in got:
                lines.append(f"| {LABELS[what]} | {label} | – | – | – | – | – | – | – | – | – | – | – | – | "
                             f"NOT RUN: {got['error'].splitlines()[-1][:160]} |")
                if case == "big":
                    missed.append(f"{LABELS[what]}: not run ({got['error'].splitlines()[-1][:160]})")
                continue
            budget, verdict = "", ""
            if case == "big":
                checks = []
                seconds = BUDGET_SECONDS.get(what)
                if seconds is not None:
                    budget = f"≤ {seconds:g} s, ≤ 1 GB"
                    checks.append(got["total_s"] <= seconds)
                    if got["total_s"] > seconds:
                        cpu_note = (f" (its CPU time, {fmt_s(got['cpu_s'])}, is within: the machine was busy)"
                                    if got["cpu_s"] <= seconds else "")
                        missed.append(f"{LABELS[what]} {fmt_s(got['total_s'])} > {seconds:g} s{cpu_note}")
                else:
                    budget = "≤ 1 GB"
                checks.append(got["peak_mb"] <= BUDGET_MEMORY_MB)
                if got["peak_mb"] > BUDGET_MEMORY_MB:
                    missed.append(f"{LABELS[what]} peak memory {got['peak_mb']:.0f} MB > 1 GB")
                verdict = "met" if all(checks) else "**NOT MET**"
            pages = f", {got['pages']} pages" if got.get("pages") else ""
            lines.append(
                f"| {LABELS[what]} | {label} | {got['sections']} / {got['items']} / {got['photos']} "
                f"| {fmt_s(got['document_s'])} | {fmt_s(got['output_s']) if what != 'document' else '–'} "
                f"| {fmt_s(got['total_s'])}{spread(got)} | {ratio(got['total_s'], demo.get('total_s')) if case == 'big' else ''} "
                f"| {fmt_s(got['cpu_s'])} | {got['bytes'] / 1e6:.2f} MB{pages} | {fmt_s(got['import_s']) if what != 'document' else '–'} "
                f"| {got['start_mb']:.0f} MB | {got['peak_mb']:.0f} MB | {ratio(got['peak_mb'], demo.get('peak_mb')) if case == 'big' else ''} "
                f"| {budget} | {verdict} |"
            )
    lines += ["", f"Verdict: {'every budget met' if not missed else 'NOT MET — ' + '; '.join(missed)}."]
    end_load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [line.replace("{end_load}", end_load) for line in lines]
    for what, text in profiles.items():
        heading = (f"cProfile of {LABELS[what]} on the generated forum (document + output; the profiler makes it "
                   "about 2-3 times slower; cumulative time, then own time):")
        lines += ["", heading, "",
                  "```", "\n".join(text.splitlines()[:80]), "```"]
    return "\n".join(lines), missed, results


def median_run(runs: list[dict]) -> dict:
    """The run of median wall time (every figure of the line from that same process), with the
    spread of the others; the first error if any run failed."""
    failed = [run for run in runs if "error" in run]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda run: run["total_s"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["spread"] = (ordered[0]["total_s"], ordered[-1]["total_s"]) if len(ordered) > 1 else None
    chosen["peak_mb"] = max(run["peak_mb"] for run in runs)  # memory: the worst of the runs
    return chosen


def summary_line(got: dict) -> str:
    if "error" in got:
        return "ERROR " + got["error"].splitlines()[-1][:200]
    return (f"document {fmt_s(got['document_s'])}, output {fmt_s(got['output_s'])}, peak {got['peak_mb']:.0f} MB, "
            f"{got['bytes']:,} bytes")


def database_label(args) -> str:
    if args.database_url and not args.database_url.startswith("sqlite"):
        return "PostgreSQL (local server, scripts/postgres-local.sh)"
    return "SQLite file (WAL)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    parser.add_argument("--only", default=",".join(OUTPUTS), help="outputs to measure: document,html,pdf,docx,md")
    parser.add_argument("--keep", help="write the files built into this folder")
    parser.add_argument("--repeat", type=int, default=1,
                        help="fresh processes per measure; the line shows the median run and the spread (default 1)")
    parser.add_argument("--workdir", help="keep the generated database and photos in this folder, and reuse them "
                                          "on the next run with the same --workdir (SQLite only)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile every output over 80 %% of its time budget (in one more fresh process)")
    parser.add_argument("--profile-all", action="store_true", help="cProfile every output (with --profile)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway local PostgreSQL server instead of SQLite")
    parser.add_argument("--database-url", help="run against this database instead (its tables are DROPPED first)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget is missed")
    parser.add_argument("--write-results", action="store_true", help='replace the "Report" section of RESULTS.md')
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    if args.setup:
        spec = json.loads(args.setup)
        print(json.dumps(build_database(spec["url"], Path(spec["uploads"]))))
        return 0
    args.only = [what.strip() for what in args.only.split(",") if what.strip()]
    if not 1 <= args.repeat <= 9:
        parser.error("--repeat must be 1..9")
    unknown = [what for what in args.only if what not in OUTPUTS]
    if unknown:
        parser.error(f"unknown output(s) {unknown}: choose among {', '.join(OUTPUTS)}")
    report, missed, _ = run_on_database(args, run)
    print(report)
    if args.write_results:
        postgres = uses_postgres(args)
        write_section(
            "bench/report.py --postgres" if postgres else "bench/report.py",
            f"## Report ({'PostgreSQL' if postgres else 'SQLite'}): {SESSIONS} sessions × {ITEMS_PER_SESSION} note "
            f"items and {PHOTOS} photos — HTML, PDF, Word, Markdown",
            report,
        )
        print(f"\nWrote {ROOT / 'bench' / 'RESULTS.md'}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
