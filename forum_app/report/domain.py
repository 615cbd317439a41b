"""Rules of the post-event report on plain values: no Flask, no database.

`assemble` turns what the forum produced (the programme, the rapporteurs' notes, who came) and
what the organisers chose (the report's settings, each section's and each item's choices, the
consent of the people quoted) into a `Document`: the one structure every output (HTML page, PDF,
Word, Markdown) renders, and what a publication freezes as JSON. Renderers decide nothing: which
items appear, in what order, with which words and which attribution is settled here.

Quotes attributed by name are published only with the person's consent, and the consent holds
for the words it was given on: once the quote reads differently, it must be asked again. A draft
shows every quote with its state so editors see what is missing; a publication leaves out those
without consent, and drops or anonymises refused ones as the report's settings say.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields

from forum_app.notes.domain import FIGURE, KEY_POINT, PHOTO, PROPOSAL, QUESTION, QUOTE, TEXT_MAX, Attribution

# The working copy's status. Publishing freezes a snapshot and marks the report "published"; a
# change made afterwards brings it back to "draft" while the snapshot stays online.
DRAFT, REVIEW, PUBLISHED = "draft", "review", "published"
REPORT_STATUSES = (DRAFT, REVIEW, PUBLISHED)

# Sessions without anything to show: listed by title under "Autres temps du forum", or left out.
EMPTY_LIST, EMPTY_OMIT = "list", "omit"
EMPTY_SESSION_CHOICES = (EMPTY_LIST, EMPTY_OMIT)

# A quote its author refused: dropped from the report, or kept without their name.
REFUSED_DROP, REFUSED_ANONYMISE = "drop", "anonymise"
REFUSED_QUOTE_CHOICES = (REFUSED_DROP, REFUSED_ANONYMISE)

# Consent of a person quoted by name. NOT_ASKED has no row yet; STALE is computed (the quote
# changed since it was sent or answered); NOT_NEEDED is a quote attributed to nobody.
NOT_NEEDED, NOT_ASKED, STALE = "not_needed", "not_asked", "stale"
APPROVAL_DRAFT, APPROVAL_SENT, APPROVED, AMENDED, REFUSED = "draft", "sent", "approved", "amended", "refused"
APPROVAL_STATES = (APPROVAL_DRAFT, APPROVAL_SENT, APPROVED, AMENDED, REFUSED)
PUBLISHABLE_APPROVALS = (NOT_NEEDED, APPROVED, AMENDED)

# Sessions that are not debates: listed nowhere unless someone took notes there.
LOGISTIC_KINDS = ("break", "lunch", "reception")

# The order of a section's blocks, whatever order the items were captured in.
BLOCK_ORDER = (KEY_POINT, FIGURE, QUOTE, PROPOSAL, QUESTION, PHOTO)

ANONYMOUS = "Participant·e"
MARKDOWN_MAX = 50_000  # each Markdown field of the report
TITLE_MAX = 300
LEAD_MAX = 2_000


# --- What the forum produced, as plain values --------------------------------------------------


@dataclass(frozen=True)
class Photo:
    file: str  # the stored name (notes.photos), never a path
    width: int
    height: int
    caption: str = ""
    credit: str = ""


@dataclass(frozen=True)
class NoteFacts:
    id: int
    session_id: int
    kind: str
    text: str
    attribution: Attribution = Attribution()
    highlighted: bool = False
    in_report: bool = True  # the notes moderation's choice
    deleted: bool = False
    merged: bool = False
    position: int = 0  # the capture list's order: larger = newer / higher
    photo: Photo | None = None


@dataclass(frozen=True)
class PersonLine:
    name: str
    job_title: str = ""
    organisation: str = ""
    role: str = ""  # "Intervenant·e", "Animation", ... in the report's language

    def line(self) -> str:
        return Attribution(self.name, self.job_title, self.organisation).line()


@dataclass(frozen=True)
class SessionFacts:
    id: int
    code: str
    title: str
    kind: str = "plenary"
    kind_label: str = ""
    subtitle: str = ""
    day: str = ""  # ISO date in the event's time zone
    starts: str = ""  # ISO local date-time in the event's time zone
    ends: str = ""
    room: str = ""
    track: str = ""
    people: tuple[PersonLine, ...] = ()


@dataclass(frozen=True)
class EventFacts:
    slug: str
    title: str
    start_date: str  # ISO
    end_date: str
    venue: str = ""
    description: str = ""
    language: str = "fr"


@dataclass(frozen=True)
class AttendeeFacts:
    """One confirmed registration, reduced to what the figures need (no name, no email)."""

    category: str  # a label in the report's language
    territory: str = ""
    delegation_id: int | None = None
    organisation: str = ""
    present: bool = False


@dataclass(frozen=True)
class DelegationFacts:
    id: int
    name: str
    territory: str = ""


# --- What the organisers chose ----------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    title: str = ""
    lead: str = ""
    organised_by: str = ""
    introduction_md: str = ""
    conclusion_md: str = ""
    next_steps_md: str = ""
    links_md: str = ""
    show_attendance: bool = True
    show_delegations: bool = True
    empty_sessions: str = EMPTY_LIST
    refused_quotes: str = REFUSED_DROP
    cover_item_id: int | None = None


@dataclass(frozen=True)
class SectionChoice:
    hidden: bool = False
    position: int | None = None
    title: str = ""
    summary_md: str = ""


@dataclass(frozen=True)
class ItemChoice:
    hidden: bool = False
    position: int | None = None
    text: str | None = None  # None: the note's own words


@dataclass(frozen=True)
class ApprovalFacts:
    state: str  # APPROVAL_STATES
    text_sent: str = ""
    final_text: str = ""
    final_job_title: str = ""
    final_organisation: str = ""


# --- The document every output renders ---------------------------------------------------------


@dataclass
class Item:
    id: int
    kind: str
    text: str  # as typed: renderers escape it (HTML) or write it as plain text (Word)
    attribution: str = ""  # quotes: "Name, job title, organisation" or ANONYMOUS
    highlighted: bool = False
    approval: str = NOT_NEEDED  # quotes in a draft: where their consent stands
    photo: Photo | None = None


@dataclass
class Section:
    session_id: int
    code: str
    title: str
    kind: str = ""
    kind_label: str = ""
    subtitle: str = ""
    day: str = ""
    starts: str = ""
    ends: str = ""
    room: str = ""
    people: list[PersonLine] = field(default_factory=list)
    summary_md: str = ""
    items: list[Item] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "s-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in self.code.lower())

    def of_kind(self, kind: str) -> list[Item]:
        return [item for item in self.items if item.kind == kind]

    def blocks(self) -> list[tuple[str, list[Item]]]:
        """(kind, items) in BLOCK_ORDER, empty kinds left out."""
        return [(kind, items) for kind in BLOCK_ORDER if (items := self.of_kind(kind))]


@dataclass
class SessionMention:
    code: str
    title: str
    kind_label: str = ""
    day: str = ""
    starts: str = ""
    room: str = ""


@dataclass
class CountRow:
    label: str
    registered: int
    present: int


@dataclass
class DelegationRow:
    name: str
    territory: str
    members: int
    present: int
    organisations: list[str] = field(default_factory=list)


@dataclass
class Attendance:
    registered: int
    present: int
    by_category: list[CountRow] = field(default_factory=list)
    by_territory: list[CountRow] = field(default_factory=list)
    delegations: list[DelegationRow] = field(default_factory=list)
    organisations: int = 0  # distinct organisations among the people registered


@dataclass
class Document:
    event: EventFacts
    title: str
    lead: str = ""
    organised_by: str = ""
    introduction_md: str = ""
    conclusion_md: str = ""
    next_steps_md: str = ""
    links_md: str = ""
    cover: Photo | None = None
    sections: list[Section] = field(default_factory=list)
    other_sessions: list[SessionMention] = field(default_factory=list)
    attendance: Attendance | None = None
    show_delegations: bool = True
    status: str = DRAFT  # DRAFT for previews (whatever the working copy's status), PUBLISHED for a snapshot
    number: int = 0  # the snapshot's number; 0 for a draft
    published_at: str = ""  # ISO, UTC
    generated_at: str = ""  # ISO, UTC

    @property
    def is_draft(self) -> bool:
        return self.status != PUBLISHED

    @property
    def photos(self) -> list[Photo]:
        found = [self.cover] if self.cover else []
        found += [item.photo for section in self.sections for item in section.items if item.photo]
        return found

    @property
    def is_empty(self) -> bool:
        return not self.sections


# --- Rules -------------------------------------------------------------------------------------


def approval_state(attribution: Attribution, approval: ApprovalFacts | None, text: str) -> str:
    """Where the consent of a quote's author stands for the words `text`."""
    if attribution.empty:
        return NOT_NEEDED
    if approval is None:
        return NOT_ASKED
    if approval.state == APPROVAL_DRAFT:
        return NOT_ASKED
    if approval.state == REFUSED:
        return REFUSED  # a refusal holds whatever the words: ask again only by sending a new link
    if text not in {approval.text_sent, approval.final_text} - {""}:
        return STALE
    return approval.state


def quote_as_published(
    text: str, attribution: Attribution, approval: ApprovalFacts | None, refused: str
) -> tuple[str, str] | None:
    """(text, attribution line) of a quote in a publication, or None when it is left out."""
    state = approval_state(attribution, approval, text)
    if state == NOT_NEEDED:
        return text, attribution.line(ANONYMOUS)
    if state == REFUSED:
        return (text, ANONYMOUS) if refused == REFUSED_ANONYMISE else None
    if state not in PUBLISHABLE_APPROVALS:
        return None
    assert approval is not None
    if state == AMENDED:
        amended = Attribution(
            attribution.name,
            approval.final_job_title or attribution.job_title,
            approval.final_organisation or attribution.organisation,
        )
        return approval.final_text or text, amended.line(ANONYMOUS)
    return text, attribution.line(ANONYMOUS)


def clean_override(text: str | None) -> str | None:
    """An item's rewritten words: None (the note's own words) when left empty. Raises ValueError
    past TEXT_MAX characters: nothing is ever cut silently."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if len(text) > TEXT_MAX:
        raise ValueError(f"over {TEXT_MAX} characters")
    return text


def _item_order(note: NoteFacts, choice: ItemChoice | None) -> tuple:
    # Items the editor placed come first in its order; items it never placed (notes that
    # arrived later) follow in the order they were captured.
    if choice is not None and choice.position is not None:
        return (0, choice.position, note.id)
    return (1, note.position, note.id)


def _section_order(session: SessionFacts, index: int, choice: SectionChoice | None) -> tuple:
    if choice is not None and choice.position is not None:
        return (0, choice.position, index)
    return (1, index, index)


def visible_notes(notes: Iterable[NoteFacts]) -> list[NoteFacts]:
    """What the notes' moderation lets into a report at all."""
    return [n for n in notes if not n.deleted and not n.merged and n.in_report]


def build_item(
    note: NoteFacts, choice: ItemChoice | None, approval: ApprovalFacts | None, settings: Settings, publishing: bool
) -> Item | None:
    """How one note reads in the report, or None when it is left out."""
    if choice is not None and choice.hidden:
        return None
    text = choice.text if choice is not None and choice.text is not None else note.text
    if note.kind == PHOTO:
        if note.photo is None:
            return None
        photo = Photo(note.photo.file, note.photo.width, note.photo.height, text, note.photo.credit)
        return Item(note.id, note.kind, text, highlighted=note.highlighted, photo=photo)
    if not text.strip():
        return None
    if note.kind != QUOTE:
        return Item(note.id, note.kind, text, highlighted=note.highlighted)
    state = approval_state(note.attribution, approval, text)
    if not publishing:
        return Item(note.id, note.kind, text, note.attribution.line(ANONYMOUS), note.highlighted, state)
    published = quote_as_published(text, note.attribution, approval, settings.refused_quotes)
    if published is None:
        return None
    words, line = published
    return Item(note.id, note.kind, words, line, note.highlighted, state)


def count_attendance(attendees: Iterable[AttendeeFacts], delegations: Iterable[DelegationFacts]) -> Attendance:
    """Registered and present, by category, by territory and by delegation (with the distinct
    organisations of its members, in alphabetical order)."""
    people = list(attendees)
    registered_by: dict[str, Counter] = {"category": Counter(), "territory": Counter()}
    present_by: dict[str, Counter] = {"category": Counter(), "territory": Counter()}
    for person in people:
        territory = person.territory.strip()
        registered_by["category"][person.category] += 1
        if territory:
            registered_by["territory"][territory] += 1
        if person.present:
            present_by["category"][person.category] += 1
            if territory:
                present_by["territory"][territory] += 1

    def rows(key: str) -> list[CountRow]:
        counted = registered_by[key]
        ordered = sorted(counted, key=lambda label: (-counted[label], label.casefold()))
        return [CountRow(label, counted[label], present_by[key][label]) for label in ordered]

    delegation_rows = []
    for delegation in sorted(delegations, key=lambda d: d.name.casefold()):
        members = [p for p in people if p.delegation_id == delegation.id]
        if not members:
            continue
        organisations = sorted({m.organisation.strip() for m in members if m.organisation.strip()}, key=str.casefold)
        delegation_rows.append(
            DelegationRow(
                delegation.name,
                delegation.territory,
                len(members),
                sum(m.present for m in members),
                organisations,
            )
        )
    return Attendance(
        registered=len(people),
        present=sum(p.present for p in people),
        by_category=rows("category"),
        by_territory=rows("territory"),
        delegations=delegation_rows,
        organisations=len({p.organisation.strip().casefold() for p in people if p.organisation.strip()}),
    )


def assemble(
    event: EventFacts,
    settings: Settings,
    sessions: Iterable[SessionFacts],
    notes: Iterable[NoteFacts],
    *,
    section_choices: Mapping[int, SectionChoice] | None = None,
    item_choices: Mapping[int, ItemChoice] | None = None,
    approvals: Mapping[int, ApprovalFacts] | None = None,
    attendance: Attendance | None = None,
    publishing: bool = False,
) -> Document:
    """The report as readers will see it. `sessions` in programme order; `notes` of any session
    (those of sessions not given are ignored). With `publishing`, quotes without their author's
    consent are left out and refused ones dropped or anonymised."""
    section_choices = section_choices or {}
    item_choices = item_choices or {}
    approvals = approvals or {}
    by_session: dict[int, list[NoteFacts]] = {}
    for note in visible_notes(notes):
        by_session.setdefault(note.session_id, []).append(note)

    ordered = sorted(
        enumerate(sessions), key=lambda pair: _section_order(pair[1], pair[0], section_choices.get(pair[1].id))
    )
    sections: list[Section] = []
    others: list[SessionMention] = []
    cover: Photo | None = None
    for _, session in ordered:
        choice = section_choices.get(session.id) or SectionChoice()
        if choice.hidden:
            continue
        session_notes = sorted(by_session.get(session.id, []), key=lambda n: _item_order(n, item_choices.get(n.id)))
        items = []
        for note in session_notes:
            item = build_item(note, item_choices.get(note.id), approvals.get(note.id), settings, publishing)
            if item is None:
                continue
            if settings.cover_item_id == note.id and item.photo is not None:
                cover = item.photo
            items.append(item)
        summary = choice.summary_md.strip()
        if not items and not summary:
            # Never an empty heading: listed by title, or left out, as the editor chose.
            if settings.empty_sessions == EMPTY_LIST and session.kind not in LOGISTIC_KINDS:
                others.append(
                    SessionMention(session.code, session.title, session.kind_label, session.day, session.starts, session.room)
                )
            continue
        sections.append(
            Section(
                session_id=session.id,
                code=session.code,
                title=choice.title.strip() or session.title,
                kind=session.kind,
                kind_label=session.kind_label,
                subtitle=session.subtitle,
                day=session.day,
                starts=session.starts,
                ends=session.ends,
                room=session.room,
                people=list(session.people),
                summary_md=summary,
                items=items,
            )
        )
    return Document(
        event=event,
        title=settings.title.strip() or event.title,
        lead=settings.lead.strip(),
        organised_by=settings.organised_by.strip(),
        introduction_md=settings.introduction_md.strip(),
        conclusion_md=settings.conclusion_md.strip(),
        next_steps_md=settings.next_steps_md.strip(),
        links_md=settings.links_md.strip(),
        cover=cover,
        sections=sections,
        other_sessions=others,
        # Figures nobody registered for would read "0 inscrit·e·s": no such part at all.
        attendance=attendance if settings.show_attendance and attendance and attendance.registered else None,
        show_delegations=settings.show_delegations,
        status=PUBLISHED if publishing else DRAFT,
    )


def section_fingerprint(section: Section | None) -> str:
    """What a rapporteur validates: the section's words and items, in order. Any later change
    to them gives another fingerprint."""
    if section is None:
        return ""
    data = {
        "title": section.title,
        "summary": section.summary_md,
        "items": [(i.id, i.kind, i.text, i.attribution, i.photo.caption if i.photo else "") for i in section.items],
    }
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


# --- The document as JSON (what a snapshot stores) ---------------------------------------------


def to_dict(document: Document) -> dict:
    return asdict(document)


def _build(cls, data):
    if data is None:
        return None
    known = {f.name for f in fields(cls)}
    return cls(**{key: value for key, value in data.items() if key in known})


def _photo(data) -> Photo | None:
    return _build(Photo, data)


def from_dict(data: Mapping) -> Document:
    """The document a snapshot stored (keys a later version added are ignored, missing ones default)."""
    attendance = data.get("attendance")
    sections = []
    for raw in data.get("sections") or []:
        section = _build(Section, {k: v for k, v in raw.items() if k not in ("people", "items")})
        section.people = [_build(PersonLine, p) for p in raw.get("people") or []]
        section.items = []
        for item in raw.get("items") or []:
            built = _build(Item, {k: v for k, v in item.items() if k != "photo"})
            built.photo = _photo(item.get("photo"))
            section.items.append(built)
        sections.append(section)
    document = _build(
        Document,
        {
            k: v
            for k, v in data.items()
            if k not in ("event", "cover", "sections", "other_sessions", "attendance")
        }
        | {"event": _build(EventFacts, data["event"])},
    )
    document.cover = _photo(data.get("cover"))
    document.sections = sections
    document.other_sessions = [_build(SessionMention, m) for m in data.get("other_sessions") or []]
    if attendance:
        document.attendance = Attendance(
            registered=attendance["registered"],
            present=attendance["present"],
            by_category=[_build(CountRow, r) for r in attendance.get("by_category") or []],
            by_territory=[_build(CountRow, r) for r in attendance.get("by_territory") or []],
            delegations=[_build(DelegationRow, r) for r in attendance.get("delegations") or []],
            organisations=attendance.get("organisations", 0),
        )
    return document
