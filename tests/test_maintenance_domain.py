"""The data-safety rules on plain values (no app, no database)."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

from forum_app.maintenance import domain

MANIFEST = {
    "format": domain.ARCHIVE_FORMAT,
    "database": {"kind": "sqlite"},
    "counts": {"event": 1},
    "members": {"database.sqlite3": {"sha256": "a" * 64, "size": 10}, "uploads/1/x.jpg": {"sha256": "b" * 64, "size": 3}},
}


def test_archive_name_is_the_utc_time():
    moment = datetime(2019, 6, 6, 14, 0, tzinfo=UTC).astimezone()

    assert domain.archive_name(moment) == "forum-backup-20190606T140000Z.tar"


def test_upload_member_names_refuse_hidden_temporary_and_odd_files():
    assert domain.upload_member(["3", "0123abcd.jpg"]) == "uploads/3/0123abcd.jpg"
    assert domain.upload_member([".hidden"]) is None
    assert domain.upload_member(["3", "photo.jpg.part"]) is None
    assert domain.upload_member(["..", "etc"]) is None
    assert domain.upload_member(["a b.jpg"]) is None


def test_safe_member_accepts_only_what_backup_writes():
    assert domain.safe_member("database.sqlite3") and domain.safe_member("uploads/1/x.jpg")
    assert not domain.safe_member("/etc/passwd")
    assert not domain.safe_member("uploads/../../x")
    assert not domain.safe_member("other.txt")


def test_a_well_formed_manifest_has_no_problem():
    assert domain.manifest_problems(MANIFEST) == []


def test_manifest_problems_name_what_is_wrong():
    broken = {**MANIFEST, "format": "other", "database": {"kind": "mysql"}, "counts": {"event": "one"}}

    problems = domain.manifest_problems(broken)

    assert len(problems) == 3
    assert domain.manifest_problems([]) == ["manifest.json is not a JSON object"]


def test_member_problems_find_altered_missing_and_extra_members():
    found = {
        "database.sqlite3": domain.Member("c" * 64, 10),  # altered
        "uploads/1/y.jpg": domain.Member("d" * 64, 1),  # not listed
    }

    problems = domain.member_problems(MANIFEST["members"], found)

    assert problems == [
        "database.sqlite3: checksum differs from the manifest (damaged or altered)",
        "uploads/1/x.jpg: listed in the manifest, missing from the archive",
        "uploads/1/y.jpg: in the archive, not listed in the manifest",
    ]


def test_member_problems_are_none_when_every_checksum_matches():
    found = {name: domain.Member(v["sha256"], v["size"]) for name, v in MANIFEST["members"].items()}

    assert domain.member_problems(MANIFEST["members"], found) == []


def test_a_postgresql_dump_never_goes_into_sqlite_nor_the_reverse():
    assert domain.kind_problem("sqlite", "sqlite") is None
    assert "PostgreSQL database" in domain.kind_problem("postgresql", "sqlite")
    assert "holds a SQLite database" in domain.kind_problem("sqlite", "postgresql")


def test_count_problems_compare_with_the_manifest():
    assert domain.count_problems({"event": 1, "registration": 5}, {"event": 1, "registration": 5, "x": 2}) == []
    assert domain.count_problems({"event": 1, "registration": 5}, {"event": 1, "registration": 4}) == [
        "registration: 4 rows, the manifest says 5"
    ]


def test_pg_tool_versions_are_read_from_their_output():
    assert domain.tool_major("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)") == 15
    assert domain.tool_major("pg_restore (PostgreSQL) 9.6.24") == 9
    assert domain.tool_major("command not found") is None
    assert domain.server_major(150018) == 15 and domain.server_major(170002) == 17


def test_the_tool_of_the_servers_major_version_is_preferred_then_the_oldest_newer_one():
    candidates = [("/usr/bin/pg_dump", 17), ("/usr/lib/postgresql/15/bin/pg_dump", 15), ("/opt/16/pg_dump", 16)]

    assert domain.choose_tool(candidates, 15) == "/usr/lib/postgresql/15/bin/pg_dump"
    assert domain.choose_tool([("/usr/bin/pg_dump", 17), ("/opt/16/pg_dump", 16)], 15) == "/opt/16/pg_dump"
    assert domain.choose_tool([("/usr/bin/pg_dump", 13)], 15) is None


def test_tool_problem_says_missing_or_too_old_and_what_to_install():
    missing = domain.tool_problem("pg_dump", [], 16)
    old = domain.tool_problem("pg_dump", [("/usr/bin/pg_dump", 15)], 16)

    assert "pg_dump not found" in missing and "postgresql-client-16" in missing
    assert "older than the server (PostgreSQL 16)" in old and "/usr/bin/pg_dump (15)" in old


def test_the_database_url_goes_to_libpq_through_the_environment():
    env, unknown = domain.libpq_environment(
        "db.example.org", 5432, "forum", "s3cret", "forum", {"sslmode": "require", "driver_thing": "x"}
    )

    assert env == {"PGHOST": "db.example.org", "PGPORT": "5432", "PGUSER": "forum", "PGPASSWORD": "s3cret",
                   "PGDATABASE": "forum", "PGSSLMODE": "require"}
    assert unknown == ["driver_thing"]


def test_human_sizes():
    assert domain.human_size(512) == "512 bytes"
    assert domain.human_size(942_080) == "942.1 kB"
    assert domain.human_size(3_500_000_000) == "3.5 GB"


# --- the purge's date rule: the demo forum ends on Friday 7 June 2019 ---

END = date(2019, 6, 7)
NOTICE = date(2020, 6, 7)  # registration.domain.erasure_date(END): 12 months


def _decide(today, days=365, confirmed=False):
    return domain.purge_decision(END, today, days, configured_days=365, confirmed=confirmed, notice_date=NOTICE)


def test_purge_is_allowed_once_the_retention_period_is_over():
    assert _decide(date(2020, 6, 7)).allowed  # 365 days after 8 June 2019 (2020 is a leap year)
    assert _decide(date(2021, 1, 1)).allowed


def test_purge_too_early_is_refused_with_the_first_allowed_day():
    decision = _decide(date(2020, 6, 6))

    assert not decision.allowed
    assert decision.purge_from == date(2020, 6, 7)
    assert "2020-06-07" in decision.reason and "--days 0 --yes" in decision.reason


def test_days_zero_needs_yes_and_then_erases_once_the_event_is_over():
    assert not _decide(date(2019, 6, 20), days=0).allowed
    assert "add --yes" in _decide(date(2019, 6, 20), days=0).reason
    assert _decide(date(2019, 6, 8), days=0, confirmed=True).allowed


def test_nothing_is_erased_before_the_event_is_over_whatever_the_options():
    decision = _decide(date(2019, 6, 7), days=0, confirmed=True)

    assert not decision.allowed and "not over" in decision.reason


def test_a_retention_longer_than_the_privacy_notice_is_a_warning():
    assert _decide(date(2021, 1, 1), days=400).warning.startswith("400 days is longer than the privacy notice")
    assert _decide(date(2021, 1, 1), days=365).warning == ""


# --- the purge: what is kept ---


def test_a_checkin_answer_loses_the_persons_name_organisation_and_job_title_only():
    answer = json.dumps({
        "outcome": "checked_in", "station": "porte 1", "scanned_at": "2019-06-06T06:41:00+00:00",
        "attendee": {"registration_id": 7, "name": "Amina Benali", "organisation": "Ville de Lille",
                     "job_title": "Cheffe de projet", "category": "collectivite", "workshops": [{"code": "A1"}]},
    })

    scrubbed = json.loads(domain.scrub_checkin_answer(answer))

    assert scrubbed["attendee"] == {"registration_id": 7, "name": "", "organisation": "", "job_title": "",
                                    "category": "collectivite", "workshops": [{"code": "A1"}]}
    assert scrubbed["outcome"] == "checked_in" and scrubbed["station"] == "porte 1"


def test_a_checkin_answer_naming_nobody_is_left_alone():
    assert domain.scrub_checkin_answer(json.dumps({"outcome": "invalid", "attendee": None})) is None
    assert domain.scrub_checkin_answer(json.dumps({"attendee": {"name": "", "organisation": ""}})) is None
    assert domain.scrub_checkin_answer("not json") == "{}"


def test_organisation_stand_ins_keep_the_number_of_distinct_organisations():
    people = [(1, "Ville de Lille"), (2, "Caisse des Dépôts"), (3, "Ville de Lille"), (4, ""), (5, "ANCT")]

    stand_ins = domain.organisation_stand_ins(people)

    assert stand_ins == {1: "Organisation anonymisée 1", 2: "Organisation anonymisée 2", 3: "Organisation anonymisée 1",
                         4: "", 5: "Organisation anonymisée 3"}


def test_spellings_differing_in_case_stay_one_organisation_in_two_spellings():
    """The report counts organisations whatever the case, and lists a delegation's spellings apart."""
    people = [(1, "Ville de Lille"), (2, "ville de lille"), (3, "VILLE DE LILLE"), (4, "ville de lille")]

    stand_ins = domain.organisation_stand_ins(people)

    assert len({name.casefold() for name in stand_ins.values()}) == 1
    assert len(set(stand_ins.values())) == 3 and stand_ins[2] == stand_ins[4]
    assert stand_ins[1] == "Organisation anonymisée 1" and stand_ins[2] == "organisation anonymisée 1"


def test_organisation_stand_ins_continue_after_those_already_given():
    stand_ins = domain.organisation_stand_ins([(9, "ANCT"), (10, "Organisation anonymisée 2")],
                                              taken=["Organisation anonymisée 4", ""])

    assert stand_ins == {9: "Organisation anonymisée 5", 10: "Organisation anonymisée 2"}


def test_outbox_messages_about_an_event_link_to_its_pages_or_name_it_in_the_subject():
    link = "Votre espace : https://forum.example.org/e/citescap2019/me/abc"

    assert domain.message_about_event("Votre inscription", [link], "citescap2019", "Cités Cap 2019")
    assert domain.message_about_event("Votre accès rapporteur·e — Cités Cap 2019", ["/invitation/x"], "citescap2019",
                                      "Cités Cap 2019")
    assert not domain.message_about_event("Votre inscription — Cités Cap 2019", ["/e/citescap2020/me/x"], "citescap2019",
                                          "Cités Cap 2019")  # same title, another event's link
