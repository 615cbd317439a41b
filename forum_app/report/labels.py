"""Words and dates of the report in its own language (msgids in French).

Every output (HTML, PDF, Word, Markdown) takes its headings and dates from here, so the four
read the same. Call them inside `flask_babel.force_locale(document.event.language)`: a report
is written in the event's language, whatever the reader's browser says.
"""
from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from forum_app.i18n import capitalise_first, current_language, format_clock
from forum_app.notes import domain as notes_domain
from forum_app.report import domain

# A section's blocks, in domain.BLOCK_ORDER.
BLOCK_HEADINGS = {
    notes_domain.KEY_POINT: _l("Ce qu'il faut retenir"),
    notes_domain.FIGURE: _l("Chiffres clés"),
    notes_domain.QUOTE: _l("Paroles d'intervenant·e·s"),
    notes_domain.PROPOSAL: _l("Propositions"),
    notes_domain.QUESTION: _l("Questions de la salle"),
    notes_domain.PHOTO: _l("En images"),
}

HEADINGS = {
    "contents": _l("Sommaire"),
    "introduction": _l("Introduction"),
    "attendance": _l("Le forum en chiffres"),
    "delegations": _l("Les délégations"),
    "sessions": _l("Les temps forts"),
    "other_sessions": _l("Autres temps du forum"),
    "conclusion": _l("Conclusion"),
    "next_steps": _l("Suites et prochaines étapes"),
    "links": _l("Pour aller plus loin"),
    "registered": _l("Inscrit·e·s"),
    "present": _l("Présent·e·s"),
    "organisations": _l("Organisations"),
    "by_category": _l("Par catégorie"),
    "by_territory": _l("Par territoire"),
    "members": _l("Membres"),
    "organised_by": _l("Organisé par %(name)s"),
    "draft": _l("Brouillon — non publié"),
    "published": _l("Publié le %(date)s"),
    "version": _l("Version %(number)s"),
    "credit": _l("Crédit : %(credit)s"),
    "no_notes": _l("Aucune note n'a encore été prise : le rapport se remplira avec les notes des rapporteurs."),
    "report_of": _l("Retour sur l'événement"),
    "highlight": lazy_pgettext("étiquette dans le rapport publié", "À retenir"),  # the tag of a highlighted item (report/html.py, report/pdf.py)
    # Word and Markdown outputs (report/word.py, report/markdown_out.py): table column headers,
    # the cover's version line, the note inside the Word table of contents.
    "category": _l("Catégorie"),
    "territory": _l("Territoire"),
    "delegation": _l("Délégation"),
    "version_published": _l("Version %(number)s · publié le %(date)s"),
    "toc_note": _l("Sommaire à mettre à jour : appuyez sur F9 (Word) ou Outils › Mettre à jour › Tout mettre à jour (LibreOffice) pour afficher les titres et leurs numéros de page."),
}

# Where the consent of a quote's author stands (drafts only: a publication shows none).
APPROVAL_LABELS = {
    domain.NOT_NEEDED: _l("Sans attribution nominative"),
    domain.NOT_ASKED: _l("Accord à demander"),
    domain.APPROVAL_SENT: _l("Accord demandé, en attente"),
    domain.APPROVED: _l("Approuvée"),
    domain.AMENDED: _l("Approuvée avec modifications"),
    domain.REFUSED: _l("Refusée"),
    domain.STALE: _l("Modifiée depuis la demande : accord à redemander"),
}


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _moment(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def format_long_date(value: str, locale: str | None = None) -> str:
    """'2019-06-06' -> '6 juin 2019'."""
    day = _day(value)
    return format_date(day, "d MMMM y", locale=locale or current_language()) if day else ""


def event_dates(event: domain.EventFacts, locale: str | None = None) -> str:
    """'6 juin 2019'; '6 et 7 juin 2019'; '30 juin – 1 juillet 2019' (English: '6 and 7 June 2019')."""
    locale = locale or current_language()
    start, end = _day(event.start_date), _day(event.end_date)
    if start is None:
        return ""
    if end is None or end == start:
        return format_date(start, "d MMMM y", locale=locale)
    french = locale.startswith("fr")
    if (start.year, start.month) == (end.year, end.month) and (end - start).days == 1:
        joined = "et" if french else "and"
        return f"{start.day} {joined} {format_date(end, 'd MMMM y', locale=locale)}"
    if start.year == end.year:
        return f"{format_date(start, 'd MMMM', locale=locale)} – {format_date(end, 'd MMMM y', locale=locale)}"
    return f"{format_date(start, 'd MMMM y', locale=locale)} – {format_date(end, 'd MMMM y', locale=locale)}"


def session_when(starts: str, ends: str = "", locale: str | None = None) -> str:
    """'Jeudi 6 juin 2019, 14 h 15 – 15 h 30' ('Thursday 6 June 2019, 14:15 – 15:30')."""
    locale = locale or current_language()
    start, end = _moment(starts), _moment(ends)
    if start is None:
        return ""
    text = capitalise_first(format_date(start, "EEEE d MMMM y", locale=locale)) + ", " + format_clock(start, locale)
    if end is not None and end > start:
        text += " – " + format_clock(end, locale)
    return text


def published_on(document: domain.Document, locale: str | None = None) -> str:
    """'Publié le 12 juin 2019' for a snapshot; 'Brouillon — non publié' for a draft."""
    if document.is_draft:
        return str(HEADINGS["draft"])
    return str(_l("Publié le %(date)s", date=format_long_date(document.published_at, locale)))
