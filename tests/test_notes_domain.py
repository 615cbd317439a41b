"""Rules of rapporteurs' notes, without an app."""
from __future__ import annotations

import pytest

from forum_app.notes import domain


def _codes(problems):
    return [(p.field, p.code) for p in problems]


def test_item_with_kind_and_text_is_clean_and_keeps_inner_spacing():
    parsed = domain.parse_item({"kind": "key_point", "text": "  Premier point\n\n  second  "}, creating=True)

    assert parsed.problems == []
    assert parsed.text == "Premier point\n\n  second"
    assert parsed.attribution == domain.Attribution()


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_item_is_refused(text):
    parsed = domain.parse_item({"kind": "proposal", "text": text}, creating=True)

    assert _codes(parsed.problems) == [("text", "empty")]


def test_text_over_the_limit_is_refused_not_truncated():
    parsed = domain.parse_item({"kind": "key_point", "text": "a" * (domain.TEXT_MAX + 1)}, creating=True)

    assert [(p.field, p.code, p.limit) for p in parsed.problems] == [("text", "too_long", domain.TEXT_MAX)]
    assert parsed.text is None


def test_text_at_the_limit_is_accepted():
    parsed = domain.parse_item({"kind": "key_point", "text": "é" * domain.TEXT_MAX}, creating=True)

    assert parsed.problems == [] and len(parsed.text) == domain.TEXT_MAX


def test_markup_is_kept_as_typed():
    text = "<script>alert('x')</script> & <b>gras</b>"

    assert domain.parse_item({"kind": "quote", "text": text}, creating=True).text == text


@pytest.mark.parametrize("kind", [None, "", "note", "KEY_POINT", 3])
def test_unknown_kind_is_refused(kind):
    parsed = domain.parse_item({"kind": kind, "text": "x"}, creating=True)

    assert ("kind", "unknown_kind") in _codes(parsed.problems)


@pytest.mark.parametrize("text", [12, ["a"], {"a": 1}])
def test_text_that_is_not_a_string_is_refused(text):
    assert _codes(domain.parse_item({"kind": "quote", "text": text}, creating=True).problems) == [("text", "not_text")]


def test_attribution_from_the_floor_needs_a_name():
    problems: list[domain.Problem] = []

    domain.parse_attribution({"job_title": "Habitante", "organisation": ""}, problems)

    assert _codes(problems) == [("attribution.name", "empty")]


def test_attribution_collapses_spaces_and_formats_as_a_report_line():
    problems: list[domain.Problem] = []

    attribution = domain.parse_attribution(
        {"name": " Nadia   Ferhat ", "job_title": "Adjointe au maire", "organisation": "Ville de Roubaix"}, problems
    )

    assert problems == []
    assert attribution.line() == "Nadia Ferhat, Adjointe au maire, Ville de Roubaix"
    assert domain.Attribution().line() == "Participant·e"


@pytest.mark.parametrize("raw", ["Nadia", 3, {"person_id": "7"}, {"person_id": True}, {"name": ["x"]}])
def test_malformed_attribution_is_refused(raw):
    problems: list[domain.Problem] = []

    assert domain.parse_attribution(raw, problems) is None
    assert problems


def test_edit_needs_only_what_changes():
    parsed = domain.parse_item({"text": "corrigé"}, creating=False)

    assert parsed.problems == [] and parsed.kind is None and parsed.text == "corrigé" and parsed.attribution is None


@pytest.mark.parametrize(
    ("base", "current", "changes", "conflict"),
    [
        (1, 1, {"text": "x"}, False),
        (1, 2, {"text": "x"}, True),
        (1, 2, {"attribution": {}}, True),
        (1, 2, {"kind": "quote"}, True),
        (1, 2, {"highlighted": True}, False),
        (1, 2, {"deleted": True}, False),
    ],
)
def test_only_a_stale_change_of_content_is_a_conflict(base, current, changes, conflict):
    assert domain.is_conflict(base, current, changes) is conflict


@pytest.mark.parametrize(
    ("first", "second", "merged"),
    [
        ("Le foncier bloque.", "Le foncier bloque.", "Le foncier bloque."),
        ("Le foncier bloque.", "foncier", "Le foncier bloque."),
        ("", "Texte", "Texte"),
        ("Un", "Deux", "Un\n\nDeux"),
    ],
)
def test_merged_text_keeps_both_without_repeating(first, second, merged):
    assert domain.merged_text(first, second) == merged


@pytest.mark.parametrize(
    ("size", "stored"),
    [((4000, 3000), (1600, 1200)), ((1200, 5000), (384, 1600)), ((800, 600), (800, 600)), ((1600, 1), (1600, 1))],
)
def test_photo_is_scaled_to_1600_on_its_longest_side_and_never_enlarged(size, stored):
    assert domain.photo_size(*size) == stored


def test_client_id_rules():
    assert domain.valid_client_id("3f2c-9a1b_deadbeef")
    assert not domain.valid_client_id("short")
    assert not domain.valid_client_id("x" * 65)
    assert not domain.valid_client_id("with space ok?")
    assert not domain.valid_client_id(12345678)
