"""`flask purge-personal-data`: a forum a year on keeps its figures and loses its people."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from forum_app import mail
from forum_app.badges import services as badges
from forum_app.checkin import dashboard
from forum_app.checkin import services as checkin
from forum_app.extensions import db
from forum_app.maintenance import purge
from forum_app.programme.models import Event
from forum_app.registration import services as registrations
from forum_app.registration.models import Delegation, Registration
from forum_app.registration.services import RegistrationInput
from forum_app.report import services as report_services
from forum_app.report.models import QuoteApproval, ReportSnapshot

MORNING = "2019-06-06T09:30:00+02:00"  # the first day of the demo forum (6-7 June 2019)
A_YEAR_ON = "2020-06-08T10:00:00+02:00"
LATER = date(2020, 6, 8)
CAPTURED = datetime(2019, 6, 6, 9, 40, tzinfo=UTC).isoformat()

# Registrants of the purged forum: (first, last, organisation, job title, category, in delegation, workshops).
PEOPLE = [
    ("Amandine", "Purgeon", "Ville de Lille", "Cheffe de projet", "collectivite", True, ["A1"]),
    ("Bastien", "Effaceau", "ville de Lille", "Chargé de mission", "collectivite", True, ["A1"]),
    ("Capucine", "Oublieux", "Caisse des Dépôts", "Directrice", "etat", False, ["A2"]),
    ("Dorian", "Gommard", "", "", "habitant", False, []),
    ("Eulalie", "Biffeur", "Association Quartiers", "Présidente", "association", False, ["A1"]),
    ("Fulbert", "Rayeur", "ANCT", "Délégué", "etat", False, []),
]
CONTACT = ("Paulette Contactnom", "paulette.contactnom@example.org")


def _email(first: str, last: str) -> str:
    return f"{first.lower()}.{last.lower()}@example.org"


def _at(hour: int, minute: int) -> str:
    return datetime(2019, 6, 6, hour - 2, minute, tzinfo=UTC).isoformat()  # Paris time that morning


class Forum:
    """The demo forum on its first morning: six people (one cancelled), a delegation with its
    contact, scans at two doors (a duplicate, a refusal, an undo), a quote with consent asked of one
    of them, a rapporteur invited, the report published; and another forum that must stay intact."""

    def __init__(self, app, event, organiser):
        from forum_app.notes import rapporteurs
        from forum_app.notes import services as notes_services
        from forum_app.report import approvals, review

        self.app, self.event, self.organiser = app, event, organiser
        self.slug = event.slug
        nord = registrations.create_delegation(event, "Délégation Nord", territory="Hauts-de-France",
                                               contact_name=CONTACT[0], contact_email=CONTACT[1])
        inputs = [
            RegistrationInput(first_name=first, last_name=last, email=_email(first, last), organisation=org,
                              job_title=job, category=category, delegation_id=nord.id if member else None,
                              territory="" if member else "Lyon", workshop_codes=codes,
                              accessibility_needs="Boucle magnétique" if last == "Oublieux" else "", consent=True)
            for first, last, org, job, category, member, codes in PEOPLE
        ]
        people = [o.registration for o in registrations.register_many(event, inputs, source="desk", notify=False,
                                                                       actor=organiser)]
        self.people = {p.last_name: p for p in people}
        self.tokens = {p.last_name: p.access_token for p in people}
        registrations.cancel(self.people["Rayeur"], actor=organiser)
        old_badge = badges.badge_payload(self.people["Biffeur"])
        badges.reissue(self.people["Biffeur"], actor=organiser)
        ids = iter(range(10**6))

        def scan(last=None, *, badge=None, hour=9, minute=0, station="porte 1", session=None, by_name=False):
            person = self.people.get(last)
            kwargs = {"registration_id": person.id} if by_name else {"badge": badge or badges.badge_payload(person)}
            return checkin.check_in(event, client_id=f"purge-{next(ids):05d}", station=station,
                                    scanned_at=_at(hour, minute), session_code=session, user=organiser, **kwargs).answer

        scan("Purgeon", hour=8, minute=41)
        scan("Purgeon", hour=8, minute=50, station="porte 2")  # a duplicate at another station
        scan("Effaceau", hour=8, minute=55, by_name=True)  # found by name at the desk
        scan("Oublieux", hour=9, minute=5)
        wrong = scan("Gommard", hour=9, minute=6)  # the wrong person: undone below
        scan(badge=old_badge, hour=9, minute=7)  # revoked
        scan(badge="FA:not-a-badge", hour=9, minute=8)  # invalid
        scan("Purgeon", hour=9, minute=20, station="atelier", session="A1")
        checkin.undo_check_in(event, wrong["checkin_id"], organiser)

        session = next(s for s in event.sessions if s.code == "A1")
        speaker = next(sp.person for sp in session.people if sp.role != "rapporteur")
        quote = notes_services.add_item(event, session, organiser, {
            "client_id": uuid.uuid4().hex, "kind": "quote", "text": "Il faut oser la mixité.", "captured_at": CAPTURED,
            "attribution": {"name": speaker.name, "job_title": speaker.job_title or "", "organisation": speaker.organisation or ""},
        }).item["id"]
        # Consent asked through the address of a registrant (the speaker's assistant), who comments.
        _, secret = approvals.request_approval(event, quote, organiser, _email("Capucine", "Oublieux"))
        approvals.answer(secret, "approve", slug=self.slug, comment="Validé pour Mme Oublieux.")
        _, self.quote_secret = approvals.request_approval(event, quote, organiser, _email("Capucine", "Oublieux"))
        rapporteurs.invite(event, "rita.rapporteuse@example.org", "Rita Rapporteuse", by=organiser)
        review.start_review(event, organiser)
        report_services.publish(event, organiser)

        # Another forum of the same name and dates (only its slug differs).
        self.other = Event(slug="autre-forum", title=event.title, start_date=event.start_date, end_date=event.end_date)
        db.session.add(self.other)
        db.session.commit()
        registrations.register_many(self.other, [
            RegistrationInput(first_name="Ignace", last_name="Intact", email="ignace.intact@example.org",
                              organisation="Ville de Brest", category="elu", consent=True),
        ], source="desk", notify=False, actor=organiser)

    @property
    def needles(self) -> list[str]:
        """What must be found nowhere after the purge: every registrant's email and last name, the
        delegation contact's."""
        found = [CONTACT[1], CONTACT[0].split()[-1]]
        for first, last, *_ in PEOPLE:
            found += [_email(first, last), last]
        return [needle.casefold() for needle in found]


@pytest.fixture
def forum(app, demo_event, make_user):
    app.config["FORUM_NOW"] = MORNING
    organiser = make_user("organiser", demo_event)
    return Forum(app, demo_event, organiser)


def _figures(event) -> dict:
    """Every number of the arrivals dashboard and of the report's attendance part."""
    board = dashboard.build(event)
    attendance = report_services.attendance(event)
    return {
        "registered": board.registered, "arrived": board.arrived, "expected": board.expected, "days": board.days,
        "buckets": board.buckets, "by_category": board.by_category, "by_territory": board.by_territory,
        "by_delegation": board.by_delegation, "no_shows": board.no_shows_matching,
        "sessions": [(s.session.code, s.capacity, s.confirmed, s.waitlisted, s.scanned) for s in board.sessions],
        "duplicates": (board.duplicates, board.duplicates_elsewhere), "refusals": board.refusals,
        "clock_suspect": board.clock_suspect, "stations": board.stations, "last_arrival": board.last_arrival,
        "report": (attendance.registered, attendance.present, attendance.by_category, attendance.by_territory,
                   attendance.organisations),
        "report_delegations": [(d.name, d.territory, d.members, d.present, len(d.organisations))
                               for d in attendance.delegations],
    }


def _texts() -> list[tuple[str, str, str]]:
    """(table, column, value) of every text and JSON value in the database."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text, sa.JSON))]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            for column, value in zip(columns, row):
                if value is not None:
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    found.append((table.name, column.name, text.casefold()))
    return found


def _hits(needles: list[str]) -> list[tuple[str, str, str]]:
    return sorted({(table, column, needle) for table, column, text in _texts() for needle in needles if needle in text})


def _everything() -> dict[str, list]:
    """Every row of every table, for 'nothing changed'."""
    db.session.expire_all()
    return {
        table.name: [tuple(row) for row in db.session.execute(sa.select(table).order_by(*table.primary_key.columns))]
        for table in db.metadata.sorted_tables
    }


def _purge(forum, **options):
    return purge.purge_event(forum.event, today=LATER, **options)


# --- what stays ----------------------------------------------------------------------------------


def test_purge_keeps_every_figure_of_the_dashboard_and_the_report(forum):
    before = _figures(forum.event)

    _purge(forum)
    db.session.expire_all()

    assert (before["registered"], before["arrived"], before["report"][4]) == (5, 3, 3)  # a real morning
    assert _figures(forum.event) == before


def test_purge_keeps_the_published_report_programme_and_notes(forum):
    from forum_app.notes.models import NoteItem
    from forum_app.programme.models import Session

    snapshot = db.session.scalars(sa.select(ReportSnapshot.document)).one()
    notes = db.session.execute(sa.select(NoteItem.text, NoteItem.attribution_name)).all()
    sessions = db.session.execute(sa.select(Session.code, Session.title)).all()

    _purge(forum)

    assert db.session.scalars(sa.select(ReportSnapshot.document)).one() == snapshot
    assert db.session.execute(sa.select(NoteItem.text, NoteItem.attribution_name)).all() == notes
    assert db.session.execute(sa.select(Session.code, Session.title)).all() == sessions


# --- what goes -----------------------------------------------------------------------------------


def test_no_email_or_last_name_of_a_registrant_is_left_in_any_text_column(forum):
    before = _hits(forum.needles)

    result = _purge(forum)

    tables_before = {table for table, _, _ in before}
    assert {"registration", "delegation", "check_in", "quote_approval", "audit_entry"} <= tables_before
    assert _hits(forum.needles) == []
    assert result.erased["registration"] == 6 and result.erased["delegation"] == 1


def test_purge_erases_the_fields_that_tie_a_registration_to_a_person_and_keeps_the_figures_ones(forum):
    _purge(forum)

    rows = db.session.scalars(sa.select(Registration).filter_by(event_id=forum.event.id).order_by(Registration.id)).all()
    assert {(r.first_name, r.last_name, r.job_title, r.accessibility_needs) for r in rows} == {("", "Anonyme", "", "")}
    assert [r.email for r in rows] == [f"anonyme-{r.id}@invalid" for r in rows]
    assert [r.organisation for r in rows] == [
        "Organisation anonymisée 1", "organisation anonymisée 1", "Organisation anonymisée 2", "",
        "Organisation anonymisée 3", "Organisation anonymisée 4",
    ]
    assert [(r.category, r.status) for r in rows] == [(c, "cancelled" if last == "Rayeur" else "confirmed")
                                                      for _, last, _, _, c, _, _ in PEOPLE]
    assert all(r.anonymised_at is not None and r.access_token.startswith("erased-") for r in rows)
    delegation = db.session.scalars(sa.select(Delegation).filter_by(event_id=forum.event.id)).one()
    assert (delegation.name, delegation.territory, delegation.contact_name, delegation.contact_email) == (
        "Délégation Nord", "Hauts-de-France", "", "")
    approval = db.session.scalars(sa.select(QuoteApproval)).one()
    assert (approval.email, approval.comment, approval.token_hash) == ("", "", None)


def test_checkins_keep_outcome_time_door_and_station_but_no_name(forum):
    from forum_app.checkin.models import CheckIn

    def rows():
        return db.session.execute(
            sa.select(CheckIn.outcome, CheckIn.scanned_at, CheckIn.session_id, CheckIn.station, CheckIn.registration_id,
                      CheckIn.undone_at).order_by(CheckIn.id)
        ).all()

    before = rows()

    _purge(forum)

    assert rows() == before
    for answer in db.session.scalars(sa.select(CheckIn.answer)):
        attendee = json.loads(answer)["attendee"]
        assert attendee is None or (attendee["name"], attendee["organisation"], attendee["job_title"]) == ("", "", "")


def test_magic_links_quote_links_and_badges_are_dead_after_the_purge(forum, client):
    me = f"/e/{forum.slug}/me/{forum.tokens['Purgeon']}"
    quote = f"/e/{forum.slug}/report/quote/{forum.quote_secret}"
    assert client.get(me).status_code == 200
    assert client.get(quote).status_code == 200

    _purge(forum)

    assert client.get(me).status_code == 404
    assert client.get(f"{me}/badge.pdf").status_code == 404
    assert client.get(quote).status_code == 404


def test_the_events_staff_invitations_go(forum):
    from forum_app.auth.models import StaffInvitation

    assert db.session.scalar(sa.select(sa.func.count(StaffInvitation.id))) == 1

    result = _purge(forum)

    assert result.erased["staff_invitation"] == 1
    assert db.session.scalar(sa.select(sa.func.count(StaffInvitation.id))) == 0


def test_outbox_messages_about_the_event_go_and_the_others_stay(forum, app, tmp_path):
    app.config.update(MAIL_BACKEND="outbox", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    registrations.resend_link(forum.people["Purgeon"])  # about this forum (its /e/<slug>/ link)
    other = db.session.scalars(sa.select(Registration).filter_by(event_id=forum.other.id)).one()
    registrations.resend_link(other)  # about the other forum
    mail.flush()
    written = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(written) == 2

    dry = _purge(forum, dry_run=True)
    result = _purge(forum)

    left = sorted((tmp_path / "outbox").glob("*.eml"))
    assert dry.outbox_files == result.outbox_files == 1
    assert "1 other message(s) do not name this event and stay" in result.outbox_note
    assert len(left) == 1 and b"ignace.intact@example.org" in left[0].read_bytes()


# --- what must not happen ------------------------------------------------------------------------


def test_another_event_is_untouched(forum):
    def others():
        return db.session.execute(
            sa.select(Registration.first_name, Registration.last_name, Registration.email, Registration.organisation,
                      Registration.access_token, Registration.anonymised_at).filter_by(event_id=forum.other.id)
        ).all()

    before = others()

    _purge(forum)

    assert others() == before and before[0][1] == "Intact"


def test_purge_before_the_retention_period_is_refused_and_changes_nothing(forum):
    before = _everything()

    with pytest.raises(purge.PurgeRefused) as refused:
        purge.purge_event(forum.event, today=date(2020, 6, 6))

    assert "Too early" in refused.value.message and "2020-06-07" in refused.value.message
    assert _everything() == before


def test_dry_run_counts_what_the_purge_erases_and_changes_nothing(forum):
    before = _everything()

    dry = _purge(forum, dry_run=True)
    unchanged = _everything()
    done = _purge(forum)

    assert unchanged == before
    assert dry.erased == done.erased
    assert dry.erased == {"registration": 6, "delegation": 1, "check_in": 7, "quote_approval": 1,
                          "staff_invitation": 1, "audit_entry": dry.erased["audit_entry"]}
    assert dry.erased["audit_entry"] >= 4  # import, cancel, reissue, undo (at least)


def test_purge_is_idempotent(forum):
    _purge(forum)
    after_first = _everything()

    again = _purge(forum)

    assert again.erased == dict.fromkeys(purge.TABLES, 0) and again.total == 0
    assert _everything() == after_first


# --- the command ---------------------------------------------------------------------------------


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["purge-personal-data", *args])


def test_command_prints_what_it_erased_per_table(forum, app):
    app.config["FORUM_NOW"] = A_YEAR_ON

    dry = _run(app, forum.slug, "--dry-run")
    done = _run(app, forum.slug)

    assert dry.exit_code == 0 and "dry run, nothing changed" in dry.output and "registration: 6 rows" in dry.output
    assert done.exit_code == 0 and "personal data erased" in done.output
    for line in ("registration: 6 rows", "delegation: 1 rows", "check_in: 7 rows", "quote_approval: 1 rows",
                 "staff_invitation: 1 rows"):
        assert line in done.output
    assert "nothing left to erase" in _run(app, forum.slug).output


def test_command_refuses_too_early_and_days_zero_without_yes(forum, app):
    app.config["FORUM_NOW"] = "2019-06-20T10:00:00+02:00"  # two weeks after the forum

    too_early = _run(app, forum.slug)
    unconfirmed = _run(app, forum.slug, "--days", "0")
    during = None
    app.config["FORUM_NOW"] = MORNING
    during = _run(app, forum.slug, "--days", "0", "--yes")
    app.config["FORUM_NOW"] = "2019-06-20T10:00:00+02:00"
    confirmed = _run(app, forum.slug, "--days", "0", "--yes")

    assert too_early.exit_code == 1 and "Too early" in too_early.output and "--days 0 --yes" in too_early.output
    assert unconfirmed.exit_code == 1 and "add --yes to confirm" in unconfirmed.output
    assert during.exit_code == 1 and "The event is not over" in during.output
    assert confirmed.exit_code == 0 and "registration: 6 rows" in confirmed.output
    assert _run(app, "no-such-forum").output.strip() == "Error: No event with the slug 'no-such-forum'."


def test_erase_expired_runs_the_same_purge_a_year_on(forum, app):
    before = _figures(forum.event)
    app.config["FORUM_NOW"] = A_YEAR_ON

    result = app.test_cli_runner().invoke(args=["registrations", "erase-expired"])
    db.session.expire_all()

    assert result.exit_code == 0 and "registration: 6 rows" in result.output and "check_in: 7 rows" in result.output
    app.config["FORUM_NOW"] = MORNING
    assert _figures(forum.event) == before
    assert _hits(forum.needles) == []


def test_a_persons_own_erasure_also_clears_their_name_from_their_checkins(forum):
    """The same erasure, asked by one person: their scans' stored answers forget them too."""
    from forum_app.checkin.models import CheckIn

    person = forum.people["Purgeon"]

    registrations.erase(person)

    answers = db.session.scalars(sa.select(CheckIn.answer).filter_by(registration_id=person.id)).all()
    assert len(answers) == 3
    assert all("purgeon" not in answer.casefold() and "ville de lille" not in answer.casefold() for answer in answers)
    others = db.session.scalars(sa.select(CheckIn.answer).filter_by(registration_id=forum.people["Oublieux"].id)).all()
    assert any("Oublieux" in answer for answer in others)
