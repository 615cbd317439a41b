"""Clash rules on plain values: no app, no database."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from forum_app.programme.domain import (
    PERSON_CLASH,
    ROOM_CLASH,
    Clash,
    SlotView,
    find_clashes,
    local_to_utc,
    normalise_code,
    is_valid_code,
    is_valid_colour,
    session_time_problems,
    slugify,
)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2019, 6, 6, hour, minute, tzinfo=timezone.utc)


def slot(id_: int, start: datetime, end: datetime, room: int | None = None, people: set[int] = frozenset()) -> SlotView:
    return SlotView(id=id_, code=f"S{id_}", starts_at=start, ends_at=end, room_id=room, person_ids=frozenset(people))


def test_find_clashes_two_sessions_in_one_room_at_overlapping_times():
    a = slot(1, at(9), at(10), room=7)
    b = slot(2, at(9, 30), at(11), room=7)

    assert find_clashes([b, a]) == [Clash(ROOM_CLASH, 7, a, b)]


def test_find_clashes_touching_sessions_do_not_clash():
    a = slot(1, at(9), at(10), room=7, people={3})
    b = slot(2, at(10), at(11), room=7, people={3})

    assert find_clashes([a, b]) == []


def test_find_clashes_different_rooms_at_the_same_time_do_not_clash():
    assert find_clashes([slot(1, at(9), at(10), room=1), slot(2, at(9), at(10), room=2)]) == []


def test_find_clashes_sessions_without_room_never_clash_on_room():
    assert find_clashes([slot(1, at(9), at(10)), slot(2, at(9), at(10))]) == []


def test_find_clashes_one_person_in_two_overlapping_sessions():
    a = slot(1, at(14), at(15, 30), room=1, people={5, 6})
    b = slot(2, at(15), at(16), room=2, people={6, 8})

    assert find_clashes([a, b]) == [Clash(PERSON_CLASH, 6, a, b)]


def test_find_clashes_reports_room_and_each_shared_person():
    a = slot(1, at(9), at(12), room=4, people={1, 2})
    b = slot(2, at(10), at(11), room=4, people={2, 1})

    clashes = find_clashes([a, b])

    assert [(c.kind, c.subject_id) for c in clashes] == [(ROOM_CLASH, 4), (PERSON_CLASH, 1), (PERSON_CLASH, 2)]


def test_find_clashes_a_long_session_clashes_with_a_later_one_it_contains():
    long = slot(1, at(9), at(17), room=1)
    short_early = slot(2, at(9, 30), at(10), room=2)
    contained = slot(3, at(15), at(16), room=1)

    clashes = find_clashes([contained, short_early, long])

    assert clashes == [Clash(ROOM_CLASH, 1, long, contained)]


def test_find_clashes_empty_programme_has_no_clash():
    assert find_clashes([]) == []


def test_clash_involves_both_sessions_only():
    clash = find_clashes([slot(1, at(9), at(10), room=1), slot(2, at(9), at(10), room=1)])[0]

    assert clash.involves(1) and clash.involves(2) and not clash.involves(3)


def test_local_to_utc_uses_the_event_time_zone_summer_time():
    assert local_to_utc(date(2019, 6, 6), time(9, 30), "Europe/Paris") == datetime(2019, 6, 6, 7, 30, tzinfo=timezone.utc)


def test_local_to_utc_uses_the_event_time_zone_winter_time():
    assert local_to_utc(date(2019, 12, 5), time(9, 30), "Europe/Paris") == datetime(2019, 12, 5, 8, 30, tzinfo=timezone.utc)


def test_session_time_problems_accepts_a_session_inside_the_event():
    days = [date(2019, 6, 6), date(2019, 6, 7)]

    assert session_time_problems(date(2019, 6, 7), time(9), time(10), days) == []


def test_session_time_problems_flags_a_day_outside_and_an_end_before_start():
    days = [date(2019, 6, 6), date(2019, 6, 7)]

    problems = session_time_problems(date(2019, 6, 8), time(10), time(10), days)

    assert [field for field, _ in problems] == ["day", "ends"]


def test_session_codes_are_upper_cased_and_checked():
    assert normalise_code("  a1 ") == "A1"
    assert is_valid_code("A1") and is_valid_code("S101")
    assert not is_valid_code("A-1") and not is_valid_code("É1") and not is_valid_code("") and not is_valid_code("A" * 17)


def test_colours_need_six_hex_digits():
    assert is_valid_colour("#1d4ed8") and is_valid_colour("#ABCDEF")
    assert not is_valid_colour("1d4ed8") and not is_valid_colour("#abc") and not is_valid_colour("red")


def test_slugify_makes_ascii_slugs():
    assert slugify("Immobilier d'entreprise") == "immobilier-d-entreprise"
    assert slugify("Numérique et smart city") == "numerique-et-smart-city"
