"""Delegations for organisers: edit and delete them, and import one from a CSV file, all or nothing.

How the import stays all or nothing (the choice, for the record):

1. Check everything first, writing nothing: `delegation_import.read` and `.validate` (pure) read the
   file and check every row against the registration rules themselves (registration/domain.py),
   the event's workshops, the addresses already registered and the other rows. Any broken row:
   InvalidInput with ONE French sentence per broken row ("Ligne 4 : ..."), and nothing is stored.
2. Only then write, in one transaction: `services.register_many` registers every person with their
   workshop seats and commits once (it checks again under the seats' write lock, so an address
   registered by someone else in between makes it refuse the whole file). Mails go out after it.
3. Delegations the file names that do not exist yet are created just before (step 2 needs their
   ids, and the seats' write lock commits what is pending anyway); if step 2 fails for any reason
   they are deleted again, so a refused import leaves nothing behind.

Imported people are confirmed at once (an organiser imported them), with source "import" and
consent recorded as given by the head of the delegation (consent_version "delegation").
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from forum_app.errors import Conflict, InvalidInput
from forum_app.extensions import db
from forum_app.programme.domain import fold
from forum_app.programme.models import Event, Session
from forum_app.registration import delegation_import as csv_import
from forum_app.registration import domain, services
from forum_app.registration.labels import FIELD_LABELS
from forum_app.registration.models import Delegation, Registration

IMPORT_CONSENT = "delegation"  # consent given by the head of the delegation on everyone's behalf

SEPARATOR_NAMES = {";": _l("« ; »"), ",": _l("« , »"), "\t": _l("(tabulation)")}


@dataclass(frozen=True)
class CheckedFile:
    parsed: csv_import.ParsedFile
    validation: csv_import.Validation
    notes: list[str]  # French sentences about rows that import (repaired, accepted overlaps)


@dataclass
class ImportResult:
    registrations: list[Registration]
    created_delegations: list[Delegation] = field(default_factory=list)
    waitlisted: list[tuple[Registration, str]] = field(default_factory=list)  # (person, workshop code)
    notes: list[str] = field(default_factory=list)


# --- Delegations ----------------------------------------------------------------------------------


def create_delegation(event: Event, name: str, **details: str) -> Delegation:
    return services.create_delegation(event, name, **details)


def update_delegation(
    event: Event, delegation: Delegation, name: str, *, territory: str = "", contact_name: str = "", contact_email: str = ""
) -> Delegation:
    """Rename or complete a delegation (the same rules as services.create_delegation)."""
    problems: list[domain.Problem] = []
    clean_name, problem = domain.clean_text(name, "organisation", required=True)
    problems += [replace(problem, field="delegation")] if problem else []
    clean_territory, problem = domain.clean_text(territory, "territory")
    problems += [problem] if problem else []
    clean_contact, problem = domain.clean_text(contact_name, "organisation")
    problems += [replace(problem, field="contact_name")] if problem else []
    email = ""
    if (contact_email or "").strip():
        email, problem = domain.normalise_email(contact_email)
        problems += [replace(problem, field="contact_email")] if problem else []
    if problems:
        raise services.RegistrationInvalid(problems, what=_("La délégation"))
    taken = db.session.scalar(
        sa.select(Delegation.id).where(
            Delegation.event_id == event.id,
            sa.func.lower(Delegation.name) == clean_name.lower(),
            Delegation.id != delegation.id,
        )
    )
    if taken:
        raise InvalidInput(_("La délégation « %(name)s » existe déjà.", name=clean_name), field="delegation")
    delegation.name = clean_name
    delegation.territory = clean_territory
    delegation.contact_name = clean_contact
    delegation.contact_email = email
    db.session.commit()
    return delegation


def member_count(delegation: Delegation) -> int:
    return db.session.scalar(sa.select(sa.func.count(Registration.id)).where(Registration.delegation_id == delegation.id)) or 0


def delete_delegation(event: Event, delegation: Delegation) -> None:
    """Delete an empty delegation; one that still has members is refused (Conflict, in French)."""
    if delegation.event_id != event.id:
        raise Conflict(_("Cette délégation n'appartient pas à cet événement."))
    members = member_count(delegation)
    if members:
        raise Conflict(
            ngettext(
                "La délégation « %(name)s » compte encore %(num)d personne : rattachez-la à une autre délégation "
                "(ou à aucune) avant de supprimer celle-ci.",
                "La délégation « %(name)s » compte encore %(num)d personnes : rattachez-les à une autre délégation "
                "(ou à aucune) avant de supprimer celle-ci.",
                members,
                name=delegation.name,
            )
        )
    db.session.delete(delegation)
    db.session.commit()


# --- Import: checking -----------------------------------------------------------------------------


def _workshop_slots(event: Event) -> tuple[dict[str, csv_import.WorkshopSlot], set[str]]:
    """The event's sign-up sessions (with the folded names of the people on their programme), and
    the codes of its other sessions."""
    sessions = list(db.session.scalars(sa.select(Session).where(Session.event_id == event.id)))
    slots = {
        s.code.upper(): csv_import.WorkshopSlot(
            s.code.upper(), s.starts_at, s.ends_at, frozenset(fold(link.person.name) for link in s.people)
        )
        for s in sessions
        if s.signup_required
    }
    return slots, {s.code.upper() for s in sessions if not s.signup_required}


def _known_emails(event: Event) -> list[str]:
    return list(db.session.scalars(sa.select(Registration.email_key).where(Registration.event_id == event.id)))


def check_file(event: Event, data: bytes, *, delegation: Delegation | None = None) -> CheckedFile:
    """Read and check the whole file, writing nothing. InvalidInput (one sentence per broken row,
    or one for a file that cannot be read) when anything is wrong."""
    try:
        parsed = csv_import.read(data)
    except csv_import.ImportFileError as error:
        raise InvalidInput(describe_file_problem(error.problem), field="file") from None
    workshops, others = _workshop_slots(event)
    validation = csv_import.validate(
        parsed.rows,
        workshops=workshops,
        known_emails=_known_emails(event),
        other_session_codes=others,
        default_delegation=delegation.name if delegation else "",
    )
    if delegation is not None:  # the organiser's choice applies to every row
        validation = csv_import.Validation(
            tuple(_with_delegation(person, delegation.name) for person in validation.people),
            validation.errors,
            validation.notes,
        )
    if validation.errors:
        count = len(validation.errors)
        raise InvalidInput(
            ngettext(
                "%(num)d ligne du fichier est à corriger : rien n'a été importé.",
                "%(num)d lignes du fichier sont à corriger : rien n'a été importé.",
                count,
            ),
            problems=[describe_row_error(error, parsed, sorted(workshops)) for error in validation.errors],
            field="file",
        )
    names = {person.line: f"{person.first_name} {person.last_name}" for person in validation.people}
    notes = [describe_note(note, parsed, names.get(note.line, "")) for note in validation.notes]
    return CheckedFile(parsed, validation, notes)


def _with_delegation(person: csv_import.PersonRow, name: str) -> csv_import.PersonRow:
    return replace(person, delegation=name)


# --- Import: writing ------------------------------------------------------------------------------


def import_delegation(
    event: Event, people: Sequence[csv_import.PersonRow], *, notify: bool = True, actor=None
) -> ImportResult:
    """Register checked rows (see check_file) in one transaction: everyone, or nobody."""
    if not people:
        raise InvalidInput(_("Aucune personne à importer."))
    existing = {fold(d.name): d for d in services.delegations(event)}
    created: list[Delegation] = []
    territories: dict[str, Counter] = {}
    for person in people:
        if person.delegation:
            territories.setdefault(fold(person.delegation), Counter())[person.territory] += 1
    try:
        for person in people:
            key = fold(person.delegation)
            if person.delegation and key not in existing:
                common = [t for t, _n in territories[key].most_common() if t]
                delegation = Delegation(event_id=event.id, name=person.delegation, territory=common[0] if common else "")
                db.session.add(delegation)
                existing[key] = delegation
                created.append(delegation)
        if created:
            db.session.commit()
        inputs = [
            services.RegistrationInput(
                first_name=person.first_name,
                last_name=person.last_name,
                email=person.email,
                organisation=person.organisation,
                job_title=person.job_title,
                category=person.category,
                territory=person.territory,
                delegation_id=existing[fold(person.delegation)].id if person.delegation else None,
                accessibility_needs=person.accessibility_needs,
                workshop_codes=list(person.workshop_codes),
                consent=True,
                consent_version=IMPORT_CONSENT,
                overlaps_allowed=bool(person.tolerated_overlaps),
                language=event.default_locale or "fr",
            )
            for person in people
        ]
        outcomes = services.register_many(
            event,
            inputs,
            source="import",
            labels=[_("Ligne %(line)d", line=p.line) for p in people],
            notify=notify,
            actor=actor,
        )
    except BaseException:
        db.session.rollback()
        _forget(created)
        raise
    waitlisted = [(o.registration, code) for o in outcomes for code in o.waitlisted_codes]
    return ImportResult([o.registration for o in outcomes], created, waitlisted)


def _forget(delegations: list[Delegation]) -> None:
    """Delete the delegations an import created before it failed (they have no members)."""
    ids = [d.id for d in delegations if d.id is not None]
    if not ids:
        return
    db.session.execute(sa.delete(Delegation).where(Delegation.id.in_(ids)))
    db.session.commit()


def import_file(
    event: Event, data: bytes, *, delegation_id: int | None = None, notify: bool = True, actor=None
) -> ImportResult:
    """Check the whole file, then register everyone in it: all or nothing."""
    delegation = services.get_delegation(event, delegation_id) if delegation_id is not None else None
    checked = check_file(event, data, delegation=delegation)
    result = import_delegation(event, checked.validation.people, notify=notify, actor=actor)
    result.notes = checked.notes
    return result


# --- Words ----------------------------------------------------------------------------------------


def _size(n: int) -> str:
    return _("%(n)s Mo", n=f"{n / 1024 / 1024:.1f}".replace(".", ",")) if n >= 102_400 else _("%(n)s ko", n=max(n // 1024, 1))


def describe_file_problem(problem: csv_import.Problem) -> str:
    p = problem.params
    code = problem.code
    if code == csv_import.TOO_LARGE:
        return _(
            "Le fichier pèse %(size)s : 1 Mo au plus. Découpez la délégation en plusieurs fichiers.", size=_size(int(p["size"]))
        )
    if code == csv_import.TOO_MANY_ROWS:
        return _("Le fichier compte plus de %(limit)s personnes : découpez-le en plusieurs fichiers.", limit=f"{p['limit']:,}".replace(",", "\u202f"))
    if code == csv_import.EMPTY_FILE:
        return _("Le fichier est vide.")
    if code == csv_import.NO_PEOPLE:
        return _("Le fichier ne contient que la ligne des noms de colonnes : aucune personne à importer.")
    if code == csv_import.SPREADSHEET:
        return _(
            "Ce fichier est un classeur (Excel ou LibreOffice), pas un fichier CSV : enregistrez-le au format "
            "« CSV UTF-8 » puis importez ce nouveau fichier."
        )
    if code == csv_import.NOT_TEXT:
        return _("Ce fichier n'est pas un fichier CSV (texte) : choisissez le fichier .csv de la délégation.")
    if code == csv_import.MISSING_COLUMNS:
        return _(
            "Il manque des colonnes dans la première ligne : %(columns)s. La première ligne doit nommer les colonnes, "
            "par exemple : %(expected)s.",
            columns=p["columns"],
            expected=p["expected"],
        )
    if code == csv_import.DUPLICATE_COLUMNS:
        return _("Des colonnes apparaissent deux fois dans la première ligne : %(columns)s.", columns=p["columns"])
    return _("Le fichier ne peut pas être lu à partir de la ligne %(line)s (un guillemet n'est-il pas fermé ?).", line=p.get("line", "?"))


def _problem_text(problem: csv_import.Problem, parsed: csv_import.ParsedFile, codes: Sequence[str]) -> str:
    """One problem of a row, as a French clause without its final full stop."""
    p = problem.params
    code = problem.code
    if code == csv_import.PERSON:
        label = FIELD_LABELS.get(str(p["field"]), p["field"])
        person_problem = p.get("problem")
        message = services.problem_message(person_problem) if isinstance(person_problem, domain.Problem) else str(p["message"])
        return _("%(field)s : %(message)s", field=label, message=message.rstrip("."))
    if code == csv_import.TOO_LONG:
        return _("%(field)s : %(limit)s caractères au maximum", field=FIELD_LABELS.get(str(p["field"]), p["field"]), limit=p["limit"])
    if code == csv_import.TOO_MANY_WORKSHOPS:
        return _("trop d'ateliers (%(limit)s au maximum)", limit=p["limit"])
    if code == csv_import.DUPLICATE_IN_FILE:
        return _(
            "l'adresse %(email)s figure déjà ligne %(other)s du fichier (majuscules et minuscules ne comptent pas)",
            email=p["value"],
            other=p["other_line"],
        )
    if code == csv_import.ALREADY_REGISTERED:
        return _("l'adresse %(email)s est déjà inscrite à cet événement", email=p["value"])
    if code == csv_import.UNKNOWN_WORKSHOP:
        return ngettext(
            "atelier inconnu : %(codes)s (ateliers de l'événement : %(known)s)",
            "ateliers inconnus : %(codes)s (ateliers de l'événement : %(known)s)",
            int(p["count"]),
            codes=p["codes"],
            known=", ".join(codes) or "—",
        )
    if code == csv_import.NOT_A_WORKSHOP:
        return ngettext(
            "%(codes)s ne demande pas d'inscription",
            "%(codes)s ne demandent pas d'inscription",
            int(p["count"]),
            codes=p["codes"],
        )
    if code == csv_import.WORKSHOPS_OVERLAP:
        return _("les ateliers %(first)s et %(second)s ont lieu en même temps : n'en gardez qu'un", first=p["first"], second=p["second"])
    if code == csv_import.UNKNOWN_CATEGORY:
        return _(
            "catégorie « %(value)s » inconnue (collectivité, élu·e, État, association, entreprise, centre de ressources, "
            "habitant·e ou autre)",
            value=p["value"],
        )
    if code == csv_import.TOO_MANY_CELLS:
        return ngettext(
            "la ligne a %(num)d case de trop : mettez entre guillemets tout texte qui contient le séparateur %(separator)s",
            "la ligne a %(num)d cases de trop : mettez entre guillemets tout texte qui contient le séparateur %(separator)s",
            int(p["count"]),
            separator=SEPARATOR_NAMES.get(parsed.delimiter, parsed.delimiter),
        )
    return code


def describe_row_error(error: csv_import.RowError, parsed: csv_import.ParsedFile, codes: Sequence[str] = ()) -> str:
    """'Ligne 4 : Adresse e-mail : il manque le « @ » (...).' — every problem of the row in one sentence."""
    clauses = " ; ".join(_problem_text(problem, parsed, codes) for problem in error.problems)
    return _("Ligne %(line)d : %(problems)s.", line=error.line, problems=clauses)


def describe_note(note: csv_import.RowNote, parsed: csv_import.ParsedFile, name: str) -> str:
    p = note.problem.params
    if note.problem.code == csv_import.REPAIRED_ROW:
        return _(
            "Ligne %(line)d : le séparateur %(separator)s écrit sans guillemets dans « %(field)s » a été gardé dans le texte : « %(value)s ».",
            line=note.line,
            separator=SEPARATOR_NAMES.get(parsed.delimiter, parsed.delimiter),
            field=FIELD_LABELS.get(str(p["field"]), p["field"]),
            value=p["value"],
        )
    return _(
        "Ligne %(line)d : %(name)s a les ateliers %(first)s et %(second)s, qui ont lieu en même temps ; accepté parce "
        "qu'il ou elle figure au programme des deux (voir les conflits du programme).",
        line=note.line,
        name=name,
        first=p["first"],
        second=p["second"],
    )
