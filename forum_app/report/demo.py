"""The demo forum's report: written, illustrated, consented, reviewed and published, so
`/e/citescap2019/report` and its PDF, Word and Markdown files work right after `make run`.

What an organiser would have done in the weeks after Cités Cap 2019, through the same services:

1. the report's own words (title, lead, introduction, conclusion, next steps, links and a few
   section summaries) from forum_app/demo_data/citescap-report.json;
2. three illustrations drawn here with Pillow (the forum's visual, a schematic of where the
   delegations came from, the day's programme) added as photo notes: we have no photograph of
   the event and do not fake any; their captions say they are illustrations; one is the cover;
3. the consent of the people quoted, recorded by the organisation after asking them by phone,
   except two people from the floor nobody reached (so the editor shows both states);
4. the entrance check-ins of the morning for about 85 % of the confirmed registrations, when
   the event has none yet (the demo delegation is registered but nobody came through the door);
5. the review: every section validated by the demo organiser; then version 1 is published.

The organiser's work is dated after the forum (clock frozen on the file's `calendar` dates,
then restored), so the report reads "Publié le 14 juin 2019".

Loading again adds nothing: each step looks for what it would create (photo notes by client
id, consent rows, check-ins, snapshots) and a report published once is never republished.
"""
from __future__ import annotations

import io
import json
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image, ImageDraw, ImageFont

from forum_app.extensions import db
from forum_app.notes import domain as notes_domain
from forum_app.notes import photos
from forum_app.notes import services as notes_services
from forum_app.notes.models import NoteItem
from forum_app.programme.labels import kind_label
from forum_app.programme.models import Event, Session
from forum_app.report import approvals, domain, editing, review, services
from forum_app.report.models import QuoteApproval

DEMO_REPORT = Path(__file__).resolve().parent.parent / "demo_data" / "citescap-report.json"

# The illustrations' size (the stored photos' largest: notes.domain.PHOTO_MAX_SIDE).
WIDTH, HEIGHT = 1600, 1000
_FONTS = {
    "bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "regular": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
}


@dataclass
class Loaded:
    """What one load did (all zero / False when everything was already there)."""

    settings: bool = False
    illustrations: int = 0
    consents: int = 0
    checkins: int = 0
    validated: int = 0
    published: int | None = None  # the snapshot number published now

    def summary(self) -> str:
        if not (self.settings or self.illustrations or self.consents or self.checkins or self.published):
            return "already loaded, nothing added"
        parts = [
            "settings written" if self.settings else "settings kept",
            f"{self.illustrations} illustrations",
            f"{self.consents} quote consents",
            f"{self.checkins} entrance check-ins",
        ]
        if self.published:
            parts.append(f"{self.validated} sections validated, version {self.published} published")
        return ", ".join(parts)


def read_settings(path: Path = DEMO_REPORT) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the whole load


def load_demo_report(event: Event, path: Path = DEMO_REPORT) -> Loaded:
    """Write, illustrate, consent, check in, review and publish the demo report (see the module
    docstring). Needs the demo notes (forum_app.notes.demo) loaded first."""
    data = read_settings(path)
    organiser = demo_organiser(event)
    calendar = data["calendar"]
    loaded = Loaded()
    with frozen_clock(calendar["written_at"]):
        cover_id, loaded.illustrations = _add_illustrations(event, organiser, data)
        loaded.settings = _write_settings(event, organiser, data, cover_id)
    with frozen_clock(calendar["consent_at"]):
        loaded.consents = _record_consents(event, organiser, data)
    loaded.checkins = _check_in_morning(event, organiser, data["checkins"])
    if not services.snapshots(event):  # published once: never republished by a reload
        with frozen_clock(calendar["review_at"]):
            loaded.validated = _review(event, organiser)
        with frozen_clock(calendar["published_at"]):
            loaded.published = services.publish(event, organiser, note=data.get("publication_note", "")).number
    return loaded


def demo_organiser(event: Event):
    """The demo organiser account `flask demo load` creates (created here when missing)."""
    from forum_app.auth import services as auth_services
    from forum_app.cli import DEMO_ORGANISER_EMAIL, DEMO_ORGANISER_PASSWORD

    user = auth_services.find_user(DEMO_ORGANISER_EMAIL)
    if user is None or not user.is_organiser_at(event.id):
        user = auth_services.ensure_user(
            DEMO_ORGANISER_EMAIL, DEMO_ORGANISER_PASSWORD, name="Organisatrice démo", event=event, role="organiser"
        )
    return user


@contextmanager
def frozen_clock(moment: str) -> Iterator[None]:
    """forum_app.clock.now() reads `moment` inside the block (FORUM_NOW, as demos do), then
    whatever it read before."""
    config = current_app.config
    before = config.get("FORUM_NOW")
    config["FORUM_NOW"] = moment
    try:
        yield
    finally:
        config["FORUM_NOW"] = before


# --------------------------------------------------------------------------- 1. the report's words


def _untouched(report) -> bool:
    return not any(
        (report.title, report.lead, report.organised_by, report.introduction_md, report.conclusion_md,
         report.next_steps_md, report.links_md)
    )


def _write_settings(event: Event, organiser, data: dict, cover_id: int | None) -> bool:
    """The report's own fields, its cover and the section summaries, through the editor's use
    cases (report.editing), only into a report nobody wrote yet."""
    report = services.get_report(event)
    untouched, version, cover_chosen = _untouched(report), report.version, report.cover_item_id is not None
    db.session.commit()  # get_report may have created the row
    if not untouched or services.snapshots(event):
        return False
    editing.save_settings(event, organiser, {name: data[name] for name in editing.TEXT_LIMITS}, version=version)
    if cover_id is not None and not cover_chosen:
        editing.set_cover(event, cover_id, organiser)
    sessions = {s.code: s.id for s in db.session.scalars(db.select(Session).filter_by(event_id=event.id))}
    for code, summary in data["sections"].items():
        editing.save_section(event, sessions[code], organiser, {"summary_md": summary})
    return True


# --------------------------------------------------------------------------- 2. the illustrations


def _add_illustrations(event: Event, organiser, data: dict) -> tuple[int | None, int]:
    """(the cover's note id, how many photo notes were created now)."""
    created = 0
    cover_id = None
    for entry in data["illustrations"]:
        session = notes_services.get_session(event, entry["session"])
        stored = notes_services.replayed(event.id, entry["client_id"])
        if stored is None:
            png = draw(entry["drawing"], event, data)
            photo = photos.store(event.id, io.BytesIO(png))
            body = {
                "client_id": entry["client_id"],
                "kind": notes_domain.PHOTO,
                "text": entry["caption"],
                "captured_at": entry["captured_at"],
                "highlighted": bool(entry.get("cover")),
            }
            try:
                saved = notes_services.add_item(event, session, organiser, body, photo={**photo, "credit": data["credit"]})
            except BaseException:
                photos.delete(event.id, photo["file"])
                raise
            if not saved.created:
                photos.delete(event.id, photo["file"])
            created += saved.created
            stored = saved.item
        if entry.get("cover"):
            cover_id = stored["id"]
    return cover_id, created


def draw(drawing: str, event: Event, data: dict) -> bytes:
    """One illustration as PNG bytes."""
    makers = {"visual": _draw_visual, "delegations": _draw_delegations, "programme": _draw_programme}
    image = makers[drawing](event, data)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@lru_cache(maxsize=32)
def _font(weight: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(_FONTS[weight], size)
    except OSError:  # no DejaVu on this machine: Pillow's own scalable font
        return ImageFont.load_default(size)


def _fit(text: str, font, width: float) -> str:
    """`text`, cut with an ellipsis to fit `width` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip(" ,—–-") + "…"


def _wrap(text: str, font, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if font.getlength(candidate) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _gradient(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    column = Image.new("RGB", (1, HEIGHT))
    for y in range(HEIGHT):
        t = y / (HEIGHT - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    return column.resize((WIDTH, HEIGHT))


NAVY, TEAL, ORANGE, SAND, WHITE, INK = (18, 53, 91), (15, 108, 120), (235, 120, 45), (247, 236, 214), (255, 255, 255), (30, 36, 48)


def _draw_visual(event: Event, data: dict) -> Image.Image:
    """The forum's visual: title, date and city on a coloured background, a skyline of simple
    shapes (a neighbourhood's blocks, shops at their feet) and a rising sun."""
    visual = data["visual"]
    image = _gradient(TEAL, NAVY)
    pen = ImageDraw.Draw(image)
    pen.ellipse((1040, 150, 1440, 550), fill=ORANGE)
    rng = random.Random(2019)
    x = 0
    while x < WIDTH:  # the skyline: blocks of several heights, lit windows, shop fronts at the bottom
        width = rng.choice((90, 120, 150, 180))
        # Low under the words on the left, taller on the right under the sun.
        height = rng.choice((180, 240, 300, 340) if x < 1000 else (240, 300, 360, 420))
        top = HEIGHT - height
        shade = rng.choice(((236, 226, 204), (214, 226, 230), (200, 214, 222), SAND))
        pen.rectangle((x, top, x + width - 8, HEIGHT), fill=shade)
        for wy in range(top + 24, HEIGHT - 90, 46):
            for wx in range(x + 16, x + width - 30, 34):
                pen.rectangle((wx, wy, wx + 16, wy + 22), fill=NAVY if rng.random() < 0.7 else ORANGE)
        pen.rectangle((x + 10, HEIGHT - 70, x + width - 18, HEIGHT - 10), fill=TEAL)
        x += width
    pen.rectangle((0, HEIGHT - 8, WIDTH, HEIGHT), fill=NAVY)
    pen.text((110, 120), visual["title"], font=_font("bold", 150), fill=WHITE)
    pen.text((118, 290), visual["edition"], font=_font("bold", 96), fill=ORANGE)
    for i, line in enumerate(_wrap(visual["subtitle"], _font("regular", 44), 900)):
        pen.text((118, 420 + 56 * i), line, font=_font("regular", 44), fill=WHITE)
    pen.text((118, 560), f"{visual['when']} · {visual['where']}", font=_font("bold", 40), fill=SAND)
    return image


def _draw_delegations(event: Event, data: dict) -> Image.Image:
    """Where people came from, as labelled circles (no map: a schematic without scale): the host
    city, the Hauts-de-France delegation with its organisations (from the registrations), and
    the other centres de ressources of the national network."""
    spec = data["delegations_diagram"]
    image = Image.new("RGB", (WIDTH, HEIGHT), SAND)
    pen = ImageDraw.Draw(image)
    pen.text((60, 40), spec["title"], font=_font("bold", 46), fill=NAVY)
    for i, line in enumerate(_wrap(spec["subtitle"], _font("regular", 28), WIDTH - 120)):
        pen.text((60, 104 + 36 * i), line, font=_font("regular", 28), fill=INK)
    host = (520, 600)
    delegation_centre = (1150, 330)
    # The network around: small circles, each a centre de ressources.
    network = spec["network_count"]
    step = 2 * math.pi / network
    # Rotated so the line to the delegation passes between two circles.
    towards = math.atan2((delegation_centre[1] - host[1]) / 260, (delegation_centre[0] - host[0]) / 330)
    for i in range(network):
        angle = towards + step / 2 + step * i
        cx, cy = host[0] + 330 * math.cos(angle), host[1] + 260 * math.sin(angle)
        pen.line((host, (cx, cy)), fill=(190, 180, 160), width=3)
        pen.ellipse((cx - 26, cy - 26, cx + 26, cy + 26), fill=TEAL, outline=WHITE, width=3)
    pen.line((host, delegation_centre), fill=ORANGE, width=10)
    pen.ellipse((host[0] - 120, host[1] - 120, host[0] + 120, host[1] + 120), fill=NAVY)
    for i, line in enumerate(spec["host_label"]):
        font = _font("bold" if i == 0 else "regular", 38 if i == 0 else 24)
        w = font.getlength(line)
        pen.text((host[0] - w / 2, host[1] - 40 + 46 * i), line, font=font, fill=WHITE)
    # The delegation: one big circle, its organisations listed beside it.
    delegations = services.attendance(event).delegations
    radius = 150
    cx, cy = delegation_centre
    pen.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=ORANGE)
    name = delegations[0].name if delegations else spec["delegation_label"]
    font = _font("bold", 28)
    lines = _wrap(name, font, 2 * radius - 50)
    for i, line in enumerate(lines):
        pen.text((cx - font.getlength(line) / 2, cy - 18 * len(lines) + 36 * i), line, font=font, fill=WHITE)
    if delegations:
        organisations = delegations[0].organisations
        pen.text((1000, 510), spec["organisations_heading"], font=_font("bold", 28), fill=NAVY)
        for i, organisation in enumerate(organisations[:10]):
            pen.text((1000, 556 + 38 * i), "• " + _fit(organisation, _font("regular", 26), 540),
                     font=_font("regular", 26), fill=INK)
    legend = _wrap(spec["legend"], _font("regular", 26), WIDTH - 120)
    for i, line in enumerate(legend):
        pen.text((60, HEIGHT - 40 - 34 * (len(legend) - i)), line, font=_font("regular", 26), fill=INK)
    return image


_KIND_COLOURS = {
    "plenary": NAVY,
    "round-table": (34, 92, 150),
    "workshop": TEAL,
    "experience": ORANGE,
    "meeting": (120, 80, 150),
    "reception": (150, 150, 150),
    "lunch": (150, 150, 150),
    "break": (150, 150, 150),
}


def _draw_programme(event: Event, data: dict) -> Image.Image:
    """The first day's programme as a timeline, one row per room, coloured by kind of session."""
    spec = data["programme_diagram"]
    tz = ZoneInfo(event.timezone)
    sessions = list(
        db.session.scalars(db.select(Session).filter_by(event_id=event.id).order_by(Session.starts_at, Session.code))
    )
    day = sessions[0].starts_at.astimezone(tz).date() if sessions else event.start_date
    sessions = [s for s in sessions if s.starts_at.astimezone(tz).date() == day]
    rooms = list(dict.fromkeys(s.room.name if s.room else "" for s in sessions))
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    pen = ImageDraw.Draw(image)
    pen.text((60, 40), spec["title"], font=_font("bold", 46), fill=NAVY)
    pen.text((60, 104), spec["subtitle"], font=_font("regular", 28), fill=INK)
    if not sessions:
        return image
    start = min(s.starts_at for s in sessions).astimezone(tz)
    end = max(s.ends_at for s in sessions).astimezone(tz)
    start = start.replace(minute=0, second=0)
    left, right, top = 330, WIDTH - 50, 200
    row_height = min(110, (HEIGHT - top - 140) // max(len(rooms), 1))
    span = (end - start).total_seconds()

    def x_of(moment: datetime) -> float:
        return left + (right - left) * (moment.astimezone(tz) - start).total_seconds() / span

    hour = start
    while hour <= end:
        x = x_of(hour)
        pen.line((x, top - 10, x, top + row_height * len(rooms)), fill=(220, 220, 220), width=2)
        pen.text((x - 24, top - 44), f"{hour.hour} h", font=_font("regular", 24), fill=INK)
        hour += timedelta(hours=1)
    for r, room in enumerate(rooms):
        y = top + r * row_height
        pen.text((60, y + row_height / 2 - 14), _fit(room, _font("bold", 24), left - 75), font=_font("bold", 24), fill=INK)
        for session in (s for s in sessions if (s.room.name if s.room else "") == room):
            x0, x1 = x_of(session.starts_at) + 2, x_of(session.ends_at) - 2
            pen.rounded_rectangle((x0, y + 8, x1, y + row_height - 8), radius=10,
                                  fill=_KIND_COLOURS.get(session.kind, TEAL))
            title = session.title.split(" — ", 1)[-1]
            pen.text((x0 + 10, y + 16), session.code, font=_font("bold", 22), fill=WHITE)
            font = _font("regular", 18)
            lines = _wrap(title, font, x1 - x0 - 20)
            room_for = max(1, (row_height - 56) // 22)
            if len(lines) > room_for:  # the last line shown says the title goes on
                lines = lines[: room_for - 1] + [_fit(lines[room_for - 1] + " " + lines[room_for] + "…", font, x1 - x0 - 20)]
            for i, line in enumerate(lines):
                pen.text((x0 + 10, y + 44 + 22 * i), _fit(line, font, x1 - x0 - 20), font=font, fill=WHITE)
    legend_y = top + row_height * len(rooms) + 40
    x = 60
    for kind in dict.fromkeys(s.kind for s in sessions):
        label = str(kind_label(kind))
        pen.rounded_rectangle((x, legend_y, x + 36, legend_y + 30), radius=6, fill=_KIND_COLOURS.get(kind, TEAL))
        pen.text((x + 46, legend_y + 2), label, font=_font("regular", 24), fill=INK)
        x += 46 + _font("regular", 24).getlength(label) + 40
    return image


# --------------------------------------------------------------------------- 3. consent


def _record_consents(event: Event, organiser, data: dict) -> int:
    """The consent of each named quote of the demo notes, as the organisation records it after
    phoning the person (report.approvals.record_consent: approved, on the words the draft shows),
    except the quotes `quotes_not_asked` names. Quotes with a consent row already (any state) are
    left as they are."""
    from forum_app.notes import demo as notes_demo

    not_asked = {(q["session"], q["name"]) for q in data["quotes_not_asked"]}
    wanted = [
        notes_demo.client_id(entry)
        for entry in notes_demo.read_items()
        if entry["kind"] == notes_domain.QUOTE
        and entry.get("attribution")
        and (entry["session"], entry["attribution"]["name"]) not in not_asked
    ]
    report = services.get_report(event)
    notes = db.session.scalars(
        db.select(NoteItem).where(
            NoteItem.event_id == event.id,
            NoteItem.client_id.in_(wanted),
            NoteItem.deleted_at.is_(None),
            NoteItem.attribution_name != "",
        )
    ).all()
    asked = set(db.session.scalars(db.select(QuoteApproval.note_item_id).filter_by(report_id=report.id)))
    db.session.commit()  # get_report may have created the row
    recorded = 0
    for note in sorted(notes, key=lambda n: n.id):
        if note.id in asked:
            continue
        approvals.record_consent(event, note.id, organiser, domain.APPROVED, data["consent_comment"])
        recorded += 1
    return recorded


# --------------------------------------------------------------------------- 4. who came


def _check_in_morning(event: Event, organiser, spec: dict) -> int:
    """Entrance check-ins, at the desk by name, for `share` of the confirmed registrations,
    spread over the morning; nothing when the event has any check-in already."""
    from forum_app.checkin import services as checkin_services
    from forum_app.checkin.models import CheckIn
    from forum_app.registration.models import Registration

    if db.session.scalar(db.select(CheckIn.id).filter_by(event_id=event.id).limit(1)) is not None:
        return 0
    ids = sorted(
        db.session.scalars(db.select(Registration.id).filter_by(event_id=event.id, status="confirmed"))
    )
    db.session.rollback()
    if not ids:
        return 0
    rng = random.Random(20190606)
    chosen = rng.sample(ids, round(len(ids) * spec["share"]))
    first = datetime.fromisoformat(spec["from"])
    seconds = int((datetime.fromisoformat(spec["until"]) - first).total_seconds())
    moments = sorted(first + timedelta(seconds=rng.randrange(seconds)) for _ in chosen)
    for registration_id, moment in zip(chosen, moments, strict=True):
        # The desk's laptop and the server agree on the time: the scan is heard a few seconds later.
        with frozen_clock((moment + timedelta(seconds=rng.randint(1, 4))).isoformat()):
            checkin_services.check_in(
                event,
                registration_id=registration_id,
                client_id=f"demo-entree-{registration_id}",
                station=spec["station"],
                scanned_at=moment.isoformat(),
                user=organiser,
            )
    return len(chosen)


# --------------------------------------------------------------------------- 5. review


def _review(event: Event, organiser) -> int:
    """Send the report to review and validate every section as the demo organiser; how many
    sections were validated now."""
    report = services.get_report(event)
    status = report.status
    db.session.commit()
    states = review.start_review(event, organiser) if status != domain.REVIEW else review.section_states(event)
    validated = 0
    for state in states:
        if state.validated:
            continue
        review.validate_section(event, state.session_id, organiser, fingerprint=state.fingerprint)
        validated += 1
    return validated
