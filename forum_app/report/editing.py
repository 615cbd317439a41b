"""The organisers' editing of the report: its own fields, each section's heading, summary and
place, each item's words, visibility and place, the cover photo.

The notes stay exactly as the rapporteurs left them: every choice made here is written beside
them (Report, ReportSection, ReportItem) and `domain.assemble` applies it. Organisers (and site
admins) only. Each use case takes the report's write lock, commits once and records the change
with `services.touch` (a change after publication brings the working copy back to "draft"; the
published snapshot stays online until the next publication). Nothing is ever cut: a text over
its limit is refused with a message naming the field and the limit.

The read side of the editor's pages (`section_rows`, `section_page`) is here too, so the views
stay thin.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from forum_app import clock
from forum_app.errors import Conflict, InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.i18n import format_number
from forum_app.notes import domain as notes_domain
from forum_app.notes.models import NoteItem
from forum_app.programme.models import Event, Session
from forum_app.report import domain, services
from forum_app.report.models import Report, ReportItem, ReportSection

ORGANISED_BY_MAX = 300
UP, DOWN = "up", "down"
DIRECTIONS = (UP, DOWN)

# The report's own fields, as the settings form names them (labels shared with forms.py, so a
# message names the field the way the form shows it).
FIELD_LABELS = {
    "title": _l("Titre du rapport"),
    "lead": _l("Chapeau"),
    "organised_by": _l("Organisé par"),
    "introduction_md": _l("Introduction"),
    "conclusion_md": _l("Conclusion"),
    "next_steps_md": _l("Suites et prochaines étapes"),
    "links_md": _l("Pour aller plus loin"),
    "show_attendance": _l("Montrer la participation (inscrit·e·s, présent·e·s, catégories, territoires)"),
    "show_delegations": _l("Montrer les délégations et leurs organisations"),
    "empty_sessions": _l("Sessions sans notes"),
    "refused_quotes": _l("Citations refusées par leur auteur·e"),
}
SECTION_LABELS = {
    "title": _l("Titre de la section"),
    "summary_md": _l("Synthèse de la section"),
    "hidden": _l("Masquer cette section dans le rapport"),
}
ITEM_TEXT_LABEL = _l("Texte dans le rapport")

TEXT_LIMITS = {
    "title": domain.TITLE_MAX,
    "lead": domain.LEAD_MAX,
    "organised_by": ORGANISED_BY_MAX,
    "introduction_md": domain.MARKDOWN_MAX,
    "conclusion_md": domain.MARKDOWN_MAX,
    "next_steps_md": domain.MARKDOWN_MAX,
    "links_md": domain.MARKDOWN_MAX,
}
SINGLE_LINE = ("title", "organised_by")
MARKDOWN_FIELDS = ("introduction_md", "conclusion_md", "next_steps_md", "links_md")
FLAG_FIELDS = ("show_attendance", "show_delegations")
CHOICE_FIELDS = {"empty_sessions": domain.EMPTY_SESSION_CHOICES, "refused_quotes": domain.REFUSED_QUOTE_CHOICES}
SETTINGS_FIELDS = (*TEXT_LIMITS, *FLAG_FIELDS, *CHOICE_FIELDS)


class InvalidFields(InvalidInput):
    """Input refused field by field: `errors` maps each field to its message (nothing saved)."""

    def __init__(self, errors: dict[str, str]):
        first = next(iter(errors))
        super().__init__(errors[first], problems=list(errors.values()), field=first)
        self.errors = errors


class SettingsConflict(Conflict):
    """The settings form was filled in from an older version of the report: `current` holds the
    values saved since (field -> value), with who saved them and when, so the page can show both
    versions and keep what the user typed."""

    code = "settings_conflict"

    def __init__(self, message: str, *, current: dict, version: int, updated_by_id: int | None, updated_at: datetime | None):
        super().__init__(message)
        self.current = current
        self.version = version
        self.updated_by_id = updated_by_id
        self.updated_at = updated_at


# --- Checking what was typed -------------------------------------------------------------------


def normalise(name: str, value: str) -> str:
    """A text field as it is stored: line breaks as \\n, one-line fields on one line, the lead trimmed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if name in SINGLE_LINE:
        return " ".join(value.split())
    if name == "lead":
        return value.strip()
    return value


def too_long_message(label, limit: int, count: int) -> str:
    return _(
        "%(field)s : %(limit)s caractères au maximum, le texte en compte %(count)s. Rien n'a été coupé ni "
        "enregistré : raccourcissez-le.",
        field=str(label),
        limit=format_number(limit),
        count=format_number(count),
    )


def _text_value(name: str, raw: object, limit: int, label, errors: dict[str, str]) -> str | None:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        errors[name] = _("%(field)s : valeur illisible.", field=str(label))
        return None
    value = normalise(name, raw)
    if len(value) > limit:
        errors[name] = too_long_message(label, limit, len(value))
        return None
    return value


def clean_settings(data: Mapping) -> dict:
    """The settings given in `data` (fields absent are left as they are), checked; InvalidFields
    lists every field refused."""
    errors: dict[str, str] = {}
    clean: dict = {}
    for name, limit in TEXT_LIMITS.items():
        if name in data:
            value = _text_value(name, data[name], limit, FIELD_LABELS[name], errors)
            if value is not None:
                clean[name] = value
    for name in FLAG_FIELDS:
        if name in data:
            clean[name] = bool(data[name])
    for name, choices in CHOICE_FIELDS.items():
        if name in data:
            if data[name] in choices:
                clean[name] = data[name]
            else:
                errors[name] = _("%(field)s : choisissez l'une des options proposées.", field=str(FIELD_LABELS[name]))
    if errors:
        raise InvalidFields(errors)
    return clean


def settings_values(report: Report) -> dict:
    return {name: getattr(report, name) for name in SETTINGS_FIELDS}


def value_digest(name: str, value) -> str:
    """A short fingerprint of one setting's value, as stored (the settings form carries those of
    the version it was filled in from, so a conflict can tell who changed which field)."""
    if isinstance(value, bool):
        text = "1" if value else "0"
    elif name in TEXT_LIMITS:
        text = normalise(name, value or "")
    else:
        text = str(value or "")
    return hashlib.sha256(f"{name}\n{text}".encode()).hexdigest()[:12]


def settings_digest(values: Mapping) -> str:
    return ",".join(f"{name}:{value_digest(name, values.get(name))}" for name in SETTINGS_FIELDS if name in values)


def parse_digest(raw: str | None) -> dict[str, str]:
    found = {}
    for part in (raw or "").split(","):
        name, _sep, digest = part.partition(":")
        if name in SETTINGS_FIELDS and len(digest) == 12:
            found[name] = digest
    return found


# --- Loading what a use case changes -----------------------------------------------------------


def _locked(event: Event, user) -> Report:
    """The report under this transaction's write lock, as stored now (not as an earlier read in
    the same request saw it)."""
    services.require_organiser(user, event)
    report = services.lock_report(event)
    db.session.refresh(report)
    return report


def _session_of(event: Event, session_id: int) -> Session:
    session = db.session.scalar(db.select(Session).filter_by(id=session_id, event_id=event.id))
    if session is None:
        raise NotFound(_("Cette session n'existe pas."))
    return session


def _note_of(event: Event, note_id: int) -> NoteItem:
    note = db.session.scalar(db.select(NoteItem).filter_by(id=note_id, event_id=event.id))
    if note is None:
        raise NotFound(_("Cet élément de note n'existe pas."))
    return note


def _section_row(report: Report, session_id: int) -> ReportSection:
    row = db.session.scalar(db.select(ReportSection).filter_by(report_id=report.id, session_id=session_id))
    if row is None:
        row = ReportSection(report_id=report.id, session_id=session_id, hidden=False, title="", summary_md="")
        db.session.add(row)
    return row


def _item_rows(report: Report, note_ids) -> dict[int, ReportItem]:
    note_ids = list(note_ids)
    if not note_ids:
        return {}
    rows = db.session.scalars(
        db.select(ReportItem).where(ReportItem.report_id == report.id, ReportItem.note_item_id.in_(note_ids))
    )
    return {row.note_item_id: row for row in rows}


def _item_row(report: Report, note_id: int) -> ReportItem:
    row = _item_rows(report, [note_id]).get(note_id)
    if row is None:
        row = ReportItem(report_id=report.id, note_item_id=note_id, hidden=False, text=None)
        db.session.add(row)
    return row


def _direction(direction: str) -> int:
    if direction not in DIRECTIONS:
        raise InvalidInput(_("Choisissez de monter ou de descendre l'élément."), field="direction")
    return -1 if direction == UP else 1


def _admitted(note: NoteItem) -> bool:
    """What the notes' moderation lets into the report (domain.visible_notes' rule)."""
    return note.deleted_at is None and note.merged_into_id is None and bool(note.in_report)


def _admitted_notes_filter():
    return (NoteItem.deleted_at.is_(None), NoteItem.merged_into_id.is_(None), NoteItem.in_report.is_(True))


# --- The report's own fields -------------------------------------------------------------------


def save_settings(event: Event, user, data: Mapping, *, version: int) -> Report:
    """Save the report's title, lead, texts and choices. `version` is the report's version the
    form was filled in from: an older one raises SettingsConflict (nothing written)."""
    services.require_organiser(user, event)
    clean = clean_settings(data)
    report = _locked(event, user)
    if version != report.version:
        current = settings_values(report)
        updated_by_id, updated_at, current_version = report.updated_by_id, report.updated_at, report.version
        db.session.rollback()
        raise SettingsConflict(
            _("Quelqu'un a modifié le rapport pendant que vous écriviez : rien n'a été enregistré."),
            current=current,
            version=current_version,
            updated_by_id=updated_by_id,
            updated_at=updated_at,
        )
    changed = {name: value for name, value in clean.items() if getattr(report, name) != value}
    if not changed:
        db.session.rollback()
        return report
    for name, value in changed.items():
        setattr(report, name, value)
    report.version += 1
    services.touch(report, user)
    db.session.commit()
    return report


def set_cover(event: Event, note_id: int | None, user) -> Report:
    """The report's cover: one of this event's photos, or none (None)."""
    services.require_organiser(user, event)
    if note_id is not None:
        note = _note_of(event, note_id)
        if note.kind != notes_domain.PHOTO or not note.photo_file:
            raise InvalidInput(_("Seule une photo peut servir de couverture."), field="cover")
        if not _admitted(note):
            raise InvalidInput(
                _("Cette photo n'entre pas dans le rapport (supprimée ou exclue dans les notes) : elle ne peut pas servir de couverture."),
                field="cover",
            )
    report = _locked(event, user)
    if report.cover_item_id == note_id:
        db.session.rollback()
        return report
    report.cover_item_id = note_id
    services.touch(report, user)
    db.session.commit()
    return report


# --- Sections ----------------------------------------------------------------------------------


def clean_section(data: Mapping) -> dict:
    errors: dict[str, str] = {}
    clean: dict = {}
    if "title" in data:
        value = _text_value("title", data["title"], domain.TITLE_MAX, SECTION_LABELS["title"], errors)
        if value is not None:
            clean["title"] = value
    if "summary_md" in data:
        value = _text_value("summary_md", data["summary_md"], domain.MARKDOWN_MAX, SECTION_LABELS["summary_md"], errors)
        if value is not None:
            clean["summary_md"] = value
    if "hidden" in data:
        clean["hidden"] = bool(data["hidden"])
    if errors:
        raise InvalidFields(errors)
    return clean


def save_section(event: Event, session_id: int, user, data: Mapping) -> ReportSection:
    """A section's heading (empty: the session's title), summary (Markdown) and whether it is
    hidden. Fields absent from `data` are left as they are."""
    services.require_organiser(user, event)
    _session_of(event, session_id)
    clean = clean_section(data)
    report = _locked(event, user)
    row = _section_row(report, session_id)
    changed = {name: value for name, value in clean.items() if getattr(row, name) != value}
    if not changed:
        db.session.rollback()
        return row
    for name, value in changed.items():
        setattr(row, name, value)
    row.updated_at = clock.now()
    services.touch(report, user)
    db.session.commit()
    return row


def _programme_order(event: Event) -> list[int]:
    return list(
        db.session.scalars(
            db.select(Session.id).where(Session.event_id == event.id).order_by(Session.starts_at, Session.code)
        )
    )


def _sections_with_content(event: Event, rows: Mapping[int, ReportSection]) -> set[int]:
    """Sessions the report has something to say about: a note the moderation lets in, or a summary."""
    with_notes = set(
        db.session.scalars(
            db.select(NoteItem.session_id).where(NoteItem.event_id == event.id, *_admitted_notes_filter()).distinct()
        )
    )
    return with_notes | {session_id for session_id, row in rows.items() if row.summary_md.strip()}


def _report_order(ids: list[int], rows: Mapping[int, ReportSection]) -> list[int]:
    """Session ids in the report's order (domain._section_order: placed ones first)."""

    def choice(session_id: int) -> domain.SectionChoice | None:
        row = rows.get(session_id)
        return domain.SectionChoice(position=row.position) if row is not None else None

    ordered = sorted(enumerate(ids), key=lambda pair: domain._section_order(None, pair[0], choice(pair[1])))
    return [session_id for _, session_id in ordered]


def move_section(event: Event, session_id: int, user, direction: str) -> bool:
    """Move a section one place up or down among the sections with content (sessions without
    content keep their place). Writes every session's position, so the order is explicit.
    False when the section is already first (or last)."""
    services.require_organiser(user, event)
    step = _direction(direction)
    _session_of(event, session_id)
    report = _locked(event, user)
    rows = {row.session_id: row for row in db.session.scalars(db.select(ReportSection).filter_by(report_id=report.id))}
    order = _report_order(_programme_order(event), rows)
    movable = _sections_with_content(event, rows) | {session_id}
    here = order.index(session_id)
    there = here + step
    while 0 <= there < len(order) and order[there] not in movable:
        there += step
    if not 0 <= there < len(order):
        db.session.rollback()
        return False
    order[here], order[there] = order[there], order[here]
    for position, sid in enumerate(order):
        row = rows.get(sid)
        if row is None:
            row = rows[sid] = ReportSection(report_id=report.id, session_id=sid, hidden=False, title="", summary_md="")
            db.session.add(row)
        row.position = position
    services.touch(report, user)
    db.session.commit()
    return True


# --- Items -------------------------------------------------------------------------------------


def set_item(
    event: Event, note_id: int, user, *, hidden: bool | None = None, text: str | None = None, reset_text: bool = False
) -> ReportItem:
    """How one note reads in the report: hidden or shown, and its words (`text`; empty or the
    note's own words = back to the note; `reset_text` = back to the note). The note itself is
    never changed."""
    services.require_organiser(user, event)
    note = _note_of(event, note_id)
    new_text: str | None = None
    if text is not None and not reset_text:
        try:
            new_text = domain.clean_override(text.replace("\r\n", "\n").replace("\r", "\n"))
        except ValueError:
            raise InvalidFields({"text": too_long_message(ITEM_TEXT_LABEL, notes_domain.TEXT_MAX, len(text.strip()))}) from None
        if new_text is not None and new_text == (note.text or "").strip():
            new_text = None  # the note's own words: later corrections of the note show through
    report = _locked(event, user)
    row = _item_row(report, note_id)
    changed = False
    if hidden is not None and bool(row.hidden) != hidden:
        row.hidden, changed = hidden, True
    if (reset_text or text is not None) and row.text != new_text:
        row.text, changed = new_text, True
    if not changed:
        db.session.rollback()
        return row
    row.updated_at = clock.now()
    services.touch(report, user)
    db.session.commit()
    return row


def _note_facts(note: NoteItem) -> domain.NoteFacts:
    return domain.NoteFacts(id=note.id, session_id=note.session_id, kind=note.kind, text=note.text or "", position=note.position or 0)


def _item_choice(row: ReportItem | None) -> domain.ItemChoice | None:
    return domain.ItemChoice(bool(row.hidden), row.position, row.text) if row is not None else None


def _ordered_items(notes: list[NoteItem], rows: Mapping[int, ReportItem]) -> list[NoteItem]:
    """A section's notes in the report's order (domain._item_order)."""
    return sorted(notes, key=lambda note: domain._item_order(_note_facts(note), _item_choice(rows.get(note.id))))


def _admitted_notes(session_id: int) -> list[NoteItem]:
    return list(db.session.scalars(db.select(NoteItem).where(NoteItem.session_id == session_id, *_admitted_notes_filter())))


def move_item(event: Event, note_id: int, user, direction: str) -> bool:
    """Move an item one place up or down within its block (items of the same kind) in its
    section. Writes every position of the section's items. False when already first (or last)."""
    services.require_organiser(user, event)
    step = _direction(direction)
    note = _note_of(event, note_id)
    if not _admitted(note):
        raise InvalidInput(_("Cet élément n'entre pas dans le rapport (supprimé ou exclu dans les notes)."), field="direction")
    report = _locked(event, user)
    notes = _admitted_notes(note.session_id)
    rows = _item_rows(report, [n.id for n in notes])
    order = _ordered_items(notes, rows)
    here = next(i for i, n in enumerate(order) if n.id == note_id)
    there = here + step
    while 0 <= there < len(order) and order[there].kind != note.kind:
        there += step
    if not 0 <= there < len(order):
        db.session.rollback()
        return False
    order[here], order[there] = order[there], order[here]
    moment = clock.now()
    for position, item in enumerate(order):
        row = rows.get(item.id)
        if row is None:
            row = rows[item.id] = ReportItem(report_id=report.id, note_item_id=item.id, hidden=False, text=None)
            db.session.add(row)
        if row.position != position:
            row.position = position
            row.updated_at = moment
    services.touch(report, user)
    db.session.commit()
    return True


# --- Read side of the editor's pages -----------------------------------------------------------


@dataclass
class SectionRow:
    """One session in the overview's list, in the report's order."""

    session_id: int
    code: str
    title: str  # as the report shows it
    session_title: str
    kind: str
    kind_label: str
    starts: str  # ISO local
    hidden: bool
    has_content: bool
    renamed: bool
    has_summary: bool
    shown: int  # items the report shows
    hidden_items: int  # items hidden by an organiser
    in_document: bool  # the draft shows it
    state: object | None = None  # review.SectionState of a section in the draft
    first: bool = False
    last: bool = False


def section_rows(event: Event, draft: domain.Document, states: list | None = None) -> list[SectionRow]:
    """Every session of the event in the report's order, with what the report does with it."""
    report = services.report_for_reading(event)
    rows = {row.session_id: row for row in db.session.scalars(db.select(ReportSection).filter_by(report_id=report.id))}
    facts = {fact.id: fact for fact in services.session_facts(event)}
    order = _report_order(list(facts), rows)
    counts: dict[int, list[int]] = {}
    hidden_ids = set(
        db.session.scalars(
            db.select(ReportItem.note_item_id).where(ReportItem.report_id == report.id, ReportItem.hidden.is_(True))
        )
    )
    for note_id, session_id in db.session.execute(
        db.select(NoteItem.id, NoteItem.session_id).where(NoteItem.event_id == event.id, *_admitted_notes_filter())
    ):
        pair = counts.setdefault(session_id, [0, 0])
        pair[1 if note_id in hidden_ids else 0] += 1
    in_draft = {section.session_id for section in draft.sections}
    states_by_id = {state.session_id: state for state in states or []}
    result = []
    for session_id in order:
        fact = facts[session_id]
        row = rows.get(session_id)
        shown, hidden_items = counts.get(session_id, [0, 0])
        has_summary = bool(row and row.summary_md.strip())
        result.append(
            SectionRow(
                session_id=session_id,
                code=fact.code,
                title=(row.title.strip() if row and row.title.strip() else fact.title),
                session_title=fact.title,
                kind=fact.kind,
                kind_label=fact.kind_label,
                starts=fact.starts,
                hidden=bool(row and row.hidden),
                has_content=bool(shown or hidden_items or has_summary),
                renamed=bool(row and row.title.strip()),
                has_summary=has_summary,
                shown=shown,
                hidden_items=hidden_items,
                in_document=session_id in in_draft,
                state=states_by_id.get(session_id),
            )
        )
    with_content = [row for row in result if row.has_content]
    if with_content:
        with_content[0].first = True
        with_content[-1].last = True
    return result


@dataclass
class ItemView:
    note: NoteItem
    text: str  # the words the report uses
    rewritten: bool
    hidden: bool
    approval: str = domain.NOT_NEEDED  # quotes: where the consent stands for these words
    is_cover: bool = False
    first: bool = False  # in its block
    last: bool = False


@dataclass
class SectionPage:
    report: Report
    session: Session
    choice: ReportSection | None
    blocks: list[tuple[str, list[ItemView]]] = field(default_factory=list)
    left_out_by_moderation: int = 0  # excluded, deleted or merged in the notes


def section_page(event: Event, session: Session) -> SectionPage:
    """One session's items as the editor shows them: those the notes' moderation lets in, in the
    report's order, grouped by block (domain.BLOCK_ORDER), hidden ones included."""
    report = services.report_for_reading(event)
    choice = db.session.scalar(db.select(ReportSection).filter_by(report_id=report.id, session_id=session.id))
    everything = list(db.session.scalars(db.select(NoteItem).where(NoteItem.session_id == session.id)))
    notes = [note for note in everything if _admitted(note)]
    rows = _item_rows(report, [note.id for note in notes])
    approvals = services.approval_facts(report)
    views: dict[str, list[ItemView]] = {}
    for note in _ordered_items(notes, rows):
        row = rows.get(note.id)
        text = row.text if row is not None and row.text is not None else (note.text or "")
        item = ItemView(
            note=note,
            text=text,
            rewritten=row is not None and row.text is not None,
            hidden=bool(row and row.hidden),
            is_cover=report.cover_item_id == note.id,
        )
        if note.kind == notes_domain.QUOTE:
            attribution = notes_domain.Attribution(
                note.attribution_name or "", note.attribution_job_title or "", note.attribution_organisation or ""
            )
            item.approval = domain.approval_state(attribution, approvals.get(note.id), text)
        views.setdefault(note.kind, []).append(item)
    blocks = []
    for kind in domain.BLOCK_ORDER:
        items = views.get(kind)
        if items:
            items[0].first, items[-1].last = True, True
            blocks.append((kind, items))
    return SectionPage(
        report=report,
        session=session,
        choice=choice,
        blocks=blocks,
        left_out_by_moderation=len(everything) - len(notes),
    )


def cover_note(event: Event) -> NoteItem | None:
    report = services.report_for_reading(event)
    if report.cover_item_id is None:
        return None
    return db.session.scalar(db.select(NoteItem).filter_by(id=report.cover_item_id, event_id=event.id))


def has_unpublished_changes(event: Event, snapshot) -> bool:
    """Whether publishing now would give readers something other than the snapshot online."""
    if snapshot is None:
        return True
    volatile = ("number", "published_at", "generated_at", "status")
    now = json.loads(json.dumps(domain.to_dict(services.build_document(event, publishing=True))))
    stored = dict(snapshot.document)
    return {k: v for k, v in now.items() if k not in volatile} != {k: v for k, v in stored.items() if k not in volatile}
