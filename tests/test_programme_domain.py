"""Pure rules of the public programme (no app, no database)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from forum_app.programme import domain

PARIS_SUMMER = timezone(timedelta(hours=2))
DAYS = [date(2019, 6, 6), date(2019, 6, 7)]


@dataclass
class Item:
    code: str
    starts_at: datetime
    ends_at: datetime


def at(hour: int, minute: int = 0, day: int = 6) -> datetime:
    return datetime(2019, 6, day, hour, minute, tzinfo=PARIS_SUMMER)


def item(code: str, start: tuple[int, int], end: tuple[int, int]) -> Item:
    return Item(code, at(*start), at(*end))


DEMO_DAY = [
    item("S101", (8, 45), (9, 30)),
    item("S103", (10, 0), (11, 15)),
    item("A1", (11, 30), (13, 0)),
    item("A2", (11, 30), (13, 0)),
    item("A3", (11, 30), (13, 0)),
    item("A4", (11, 30), (13, 0)),
    item("LUNCH", (13, 0), (14, 15)),
    item("A5", (14, 15), (15, 15)),
]


def filters_from(args: dict, today: date = date(2019, 1, 1)) -> domain.Filters:
    return domain.parse_filters(
        args, days=DAYS, today=today, track_slugs=["europe", "numerique"], kinds=["workshop", "lunch"], room_ids=[3, 4]
    )


# --- search ---


def test_fold_removes_accents_and_case():
    assert domain.fold("Numérique ÉCONOMIE Œuvre") == "numerique economie oeuvre"


def test_matches_text_is_accent_and_case_insensitive():
    haystack = domain.search_text(["Atelier 3 — Smart city, numérique et usages"])
    assert domain.matches_text("NUMERIQUE", haystack)
    assert domain.matches_text("numérique smart", haystack)


def test_matches_text_needs_every_word():
    haystack = domain.search_text(["Immobilier d'entreprise", "Banque des Territoires"])
    assert domain.matches_text("banque immobilier", haystack)
    assert not domain.matches_text("banque europe", haystack)


def test_clean_query_collapses_spaces_and_drops_huge_searches():
    assert domain.clean_query("  smart   city ") == "smart city"
    assert domain.clean_query("x" * 5000) == ""
    assert domain.clean_query(None) == ""
    assert domain.clean_query("bad\x00byte") == ""


# --- days and filters ---


def test_parse_day_accepts_only_event_days():
    assert domain.parse_day("2019-06-07", DAYS) == date(2019, 6, 7)
    assert domain.parse_day("2019-06-08", DAYS) is None
    assert domain.parse_day("2099-99-99", DAYS) is None
    assert domain.parse_day("yesterday", DAYS) is None


def test_default_day_is_today_during_the_event_else_first_day():
    assert domain.default_day(DAYS, date(2019, 6, 7)) == date(2019, 6, 7)
    assert domain.default_day(DAYS, date(2024, 1, 1)) == date(2019, 6, 6)


def test_parse_filters_keeps_known_values():
    filters = filters_from({"day": "2019-06-07", "track": "europe", "kind": "workshop", "room": "4", "q": " smart "})
    assert filters == domain.Filters(day=date(2019, 6, 7), track="europe", kind="workshop", room=4, q="smart")
    assert filters.narrowing


def test_parse_filters_ignores_nonsense_values():
    filters = filters_from(
        {"day": "2099-99-99", "track": "nope", "kind": "zzz", "room": "99999999999999999999", "q": "x" * 300}
    )
    assert filters == domain.Filters(day=date(2019, 6, 6))
    assert not filters.narrowing


def test_parse_filters_ignores_a_room_of_another_event():
    assert filters_from({"room": "7"}).room is None
    assert filters_from({"room": "-3"}).room is None


def test_filters_args_keep_filters_and_change_the_day():
    filters = filters_from({"track": "europe", "q": "smart"})
    assert filters.args(day="2019-06-07") == {"day": "2019-06-07", "track": "europe", "q": "smart"}


def test_filters_key_differs_when_a_filter_differs():
    assert filters_from({"kind": "workshop"}).key() != filters_from({}).key()


def test_session_matches_each_filter():
    facts = domain.SessionFacts(kind="workshop", track="numerique", room=4, text=domain.search_text(["Smart city"]))
    day = date(2019, 6, 6)
    assert domain.session_matches(facts, domain.Filters(day=day))
    assert domain.session_matches(facts, domain.Filters(day=day, track="numerique", kind="workshop", room=4, q="city"))
    assert not domain.session_matches(facts, domain.Filters(day=day, track="europe"))
    assert not domain.session_matches(facts, domain.Filters(day=day, kind="lunch"))
    assert not domain.session_matches(facts, domain.Filters(day=day, room=3))
    assert not domain.session_matches(facts, domain.Filters(day=day, q="europe"))


# --- time slots, now and next ---


def test_group_by_start_puts_parallel_sessions_in_one_slot_in_time_order():
    slots = domain.group_by_start(reversed(DEMO_DAY))
    starts = [start for start, _ in slots]
    assert starts == sorted(starts)
    parallel = dict(slots)[at(11, 30)]
    assert sorted(i.code for i in parallel) == ["A1", "A2", "A3", "A4"]


def test_now_and_next_during_the_workshops():
    result = domain.now_and_next(DEMO_DAY, at(11, 45))
    assert [i.code for i in result.current] == ["A1", "A2", "A3", "A4"]
    assert [i.code for i in result.upcoming] == ["LUNCH"]
    assert result.upcoming_start == at(13, 0)


def test_now_and_next_a_session_ends_exclusive_and_starts_inclusive():
    result = domain.now_and_next(DEMO_DAY, at(13, 0))
    assert [i.code for i in result.current] == ["LUNCH"]
    assert [i.code for i in result.upcoming] == ["A5"]


def test_now_and_next_before_and_after_the_day():
    before = domain.now_and_next(DEMO_DAY, at(7, 0))
    assert before.current == [] and [i.code for i in before.upcoming] == ["S101"]
    after = domain.now_and_next(DEMO_DAY, at(20, 0))
    assert after.current == [] and after.upcoming == [] and after.upcoming_start is None


def test_now_and_next_compares_instants_across_time_zones():
    utc_now = at(11, 45).astimezone(timezone.utc)
    assert [i.code for i in domain.now_and_next(DEMO_DAY, utc_now).current] == ["A1", "A2", "A3", "A4"]


# --- text and people ---


def test_paragraphs_split_on_blank_lines_and_keep_line_breaks():
    text = "Premier paragraphe\nsur deux lignes.\r\n\r\n  \n\nSecond."
    assert domain.paragraphs(text) == [["Premier paragraphe", "sur deux lignes."], ["Second."]]
    assert domain.paragraphs("") == []


def test_person_line_joins_name_job_and_organisation():
    assert domain.person_line("Claire Roussel", "Responsable", "Banque des Territoires") == (
        "Claire Roussel — Responsable, Banque des Territoires"
    )
    assert domain.person_line("Hugo Dumas", "", "COPAS") == "Hugo Dumas — COPAS"
    assert domain.person_line("Awa", None, " ") == "Awa"


def test_group_by_role_orders_speakers_moderators_witnesses_rapporteurs():
    @dataclass
    class Link:
        name: str
        role: str

    links = [
        Link("R", "rapporteur"), Link("M", "moderator"), Link("S1", "speaker"), Link("W", "witness"), Link("S2", "speaker")
    ]
    groups = domain.group_by_role(links)
    assert [role for role, _ in groups] == ["speaker", "moderator", "witness", "rapporteur"]
    assert [link.name for link in groups[0][1]] == ["S1", "S2"]


# --- track colours ---


def test_track_palette_name_keeps_palette_colours_and_picks_the_nearest_otherwise():
    assert domain.track_palette_name("#1d4ed8") == "blue"
    assert domain.track_palette_name("#7C3AED") == "violet"
    assert domain.track_palette_name("#e11d48") == "rose"
    assert domain.track_palette_name("not a colour") == domain.DEFAULT_TRACK_COLOUR
    assert domain.track_palette_name(None) == domain.DEFAULT_TRACK_COLOUR


def test_every_palette_colour_keeps_white_text_readable():
    for name, colour in domain.TRACK_PALETTE.items():
        assert domain.contrast_ratio(colour, "#ffffff") >= 4.5, name


def test_contrast_ratio_extremes():
    assert round(domain.contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert domain.contrast_ratio("#777777", "#777777") == 1.0


def test_event_status():
    start, end = date(2019, 6, 6), date(2019, 6, 7)
    assert domain.event_status(start, end, date(2019, 6, 5)) == "upcoming"
    assert domain.event_status(start, end, date(2019, 6, 7)) == "ongoing"
    assert domain.event_status(start, end, date(2019, 6, 8)) == "past"
