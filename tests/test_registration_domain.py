"""Pure registration rules: no app, no database."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from forum_app.registration import domain

T0 = datetime(2019, 6, 6, 9, 30, tzinfo=UTC)


def _person(**changes) -> domain.PersonInput:
    values = {"first_name": "Zoé", "last_name": "Martin", "email": "zoe.martin@example.org", "category": "collectivite"}
    values.update(changes)
    return domain.PersonInput(**values)


def _slot(code: str, start_minutes: int, end_minutes: int, *, signup: bool = True, title: str | None = None):
    return domain.Slot(
        code, title or f"Atelier {code}", T0 + timedelta(minutes=start_minutes), T0 + timedelta(minutes=end_minutes), signup
    )


# --- names and texts ---


def test_names_in_any_script_are_kept_exactly():
    names = [
        ("Zoé", "L'Hôte-Dupré"),
        ("Jean-François", "O’Neill"),
        ("Анна", "Кузнецова"),
        ("فاطمة", "الزهراء"),
        ("Nguyễn", "Thị Minh Khai"),
        ("Maëlle", "de La Tour d'Auvergne"),
    ]
    for first, last in names:
        person, problems = domain.check_person(_person(first_name=first, last_name=last))

        assert problems == []
        assert (person.first_name, person.last_name) == (first, last)


def test_texts_are_trimmed_only():
    person, problems = domain.check_person(_person(first_name="  Zoé  ", organisation="\tVille de  Roubaix \n"))

    assert problems == []
    assert person.first_name == "Zoé"
    assert person.organisation == "Ville de  Roubaix"


def test_missing_required_fields_are_all_reported():
    person, problems = domain.check_person(_person(first_name=" ", last_name="", email=""))

    assert person is None
    assert [str(p) for p in problems] == [
        "Prénom : ce champ est obligatoire.",
        "Nom : ce champ est obligatoire.",
        "Adresse e-mail : ce champ est obligatoire.",
    ]


def test_overlong_field_gets_a_message_with_the_limit():
    person, problems = domain.check_person(_person(last_name="x" * 101, organisation="o" * 250))

    assert person is None
    assert [str(p) for p in problems] == [
        "Nom : trop long (101 caractères, 100 au maximum).",
        "Organisation : trop long (250 caractères, 200 au maximum).",
    ]


def test_text_at_the_limit_is_accepted():
    person, problems = domain.check_person(_person(first_name="é" * 100))

    assert problems == []
    assert person.first_name == "é" * 100


def test_line_break_in_a_name_is_refused_but_allowed_in_needs():
    _, problems = domain.check_person(_person(last_name="Martin\nDupont"))
    person, needs_problems = domain.check_person(_person(accessibility_needs="Fauteuil roulant.\nBoucle magnétique."))

    assert [p.field for p in problems] == ["last_name"]
    assert "caractère non autorisé" in problems[0].message
    assert needs_problems == []
    assert person.accessibility_needs == "Fauteuil roulant.\nBoucle magnétique."


# --- email ---


def test_email_key_is_case_insensitive():
    person_a, _ = domain.check_person(_person(email="Zoe.Martin@Example.ORG"))
    person_b, _ = domain.check_person(_person(email="zoe.martin@example.org"))

    assert person_a.email_key == person_b.email_key == "zoe.martin@example.org"
    assert person_a.email == "Zoe.Martin@example.org"  # the domain is normalised, the local part kept


def test_bad_emails_are_refused_in_french():
    cases = {
        "not-an-email": "il manque le « @ »",
        "a@b": "adresse invalide",
        "zoé martin@example.org": "ne contient pas d'espace",
        "a@@example.org": "adresse invalide",
    }
    for address, expected in cases.items():
        _, problem = domain.normalise_email(address)

        assert problem is not None, address
        assert problem.field == "email"
        assert expected in problem.message, (address, problem.message)


def test_email_syntax_only_no_network_lookup():
    email, problem = domain.normalise_email("quelqu.un@domaine-qui-n-existe-pas-du-tout.fr")

    assert problem is None
    assert email == "quelqu.un@domaine-qui-n-existe-pas-du-tout.fr"


# --- category and consent ---


def test_category_accepts_keys_and_french_words():
    assert domain.parse_category("collectivite") == "collectivite"
    assert domain.parse_category("Collectivité") == "collectivite"
    assert domain.parse_category("élu·e") == "elu"
    assert domain.parse_category("ÉTAT") == "etat"
    assert domain.parse_category("centre de ressources") == "centre_ressources"
    assert domain.parse_category("habitant·e") == "habitant"
    assert domain.parse_category("astronaute") is None


def test_unknown_category_is_refused():
    _, problems = domain.check_person(_person(category="astronaute"))

    assert [str(p) for p in problems] == ["Catégorie : choix inconnu."]



def test_consent_is_required_for_self_registration_only():
    _, refused = domain.check_person(_person(), consent=False, require_consent=True)
    _, accepted = domain.check_person(_person(), consent=True, require_consent=True)
    _, by_organiser = domain.check_person(_person(), consent=False, require_consent=False)

    assert [p.field for p in refused] == ["consent"]
    assert accepted == [] and by_organiser == []


# --- workshop choice ---


def test_chosen_workshops_come_back_in_time_order():
    slots = [_slot("A1", 0, 90), _slot("A5", 165, 225), _slot("A2", 0, 90)]

    chosen, problems = domain.check_workshop_choice(["a5", " A1 ", "A1"], slots)

    assert problems == []
    assert [s.code for s in chosen] == ["A1", "A5"]


def test_overlapping_workshops_are_refused_naming_both():
    slots = [_slot("A1", 0, 90, title="Immobilier"), _slot("A3", 60, 120, title="Numérique")]

    chosen, problems = domain.check_workshop_choice(["A1", "A3"], slots)

    assert chosen == []
    assert [str(p) for p in problems] == [
        "Ateliers : A1 (« Immobilier ») et A3 (« Numérique ») ont lieu en même temps : choisissez-en un seul."
    ]


def test_touching_workshops_are_allowed():
    slots = [_slot("A1", 0, 90), _slot("A5", 90, 150)]

    chosen, problems = domain.check_workshop_choice(["A1", "A5"], slots)

    assert problems == []
    assert [s.code for s in chosen] == ["A1", "A5"]


def test_unknown_code_and_session_without_signup_are_refused():
    slots = [_slot("A1", 0, 90), _slot("S101", -120, -60, signup=False, title="Accueil")]

    _, problems = domain.check_workshop_choice(["A9", "S101", "A1"], slots)

    assert [str(p) for p in problems] == [
        "Ateliers : « A9 » n'est pas un atelier de cet événement.",
        "Ateliers : S101 (« Accueil ») ne demande pas d'inscription.",
    ]


def test_no_workshop_is_a_valid_choice():
    assert domain.check_workshop_choice([], [_slot("A1", 0, 90)]) == ([], [])


# --- seats ---


def test_seat_while_room_then_waiting_list():
    assert domain.allocate_seat(5, 4) == "confirmed"
    assert domain.allocate_seat(5, 5) == "waitlisted"
    assert domain.allocate_seat(0, 0) == "waitlisted"
    assert domain.allocate_seat(None, 10_000) == "confirmed"


@given(capacity=st.integers(min_value=0, max_value=50), people=st.integers(min_value=0, max_value=120))
def test_allocating_one_by_one_never_exceeds_capacity(capacity, people):
    confirmed = 0
    waiting = 0
    for _ in range(people):
        if domain.allocate_seat(capacity, confirmed) == "confirmed":
            confirmed += 1
        else:
            waiting += 1

    assert confirmed == min(capacity, people)
    assert waiting == people - confirmed


def test_waiting_list_is_served_by_earliest_request_then_id():
    waiting = [
        domain.WaitingSeat(7, T0 + timedelta(seconds=2)),
        domain.WaitingSeat(9, T0),
        domain.WaitingSeat(3, T0 + timedelta(seconds=2)),
        domain.WaitingSeat(4, T0 + timedelta(seconds=1)),
    ]

    assert [s.id for s in domain.promotion_order(waiting)] == [9, 4, 3, 7]
    assert domain.waitlist_positions(waiting) == {9: 1, 4: 2, 3: 3, 7: 4}


def test_freed_places_go_to_the_first_waiting():
    waiting = [domain.WaitingSeat(i, T0 + timedelta(seconds=10 - i)) for i in range(1, 6)]

    assert [s.id for s in domain.to_promote(10, 8, waiting)] == [5, 4]
    assert domain.to_promote(10, 10, waiting) == []
    assert domain.to_promote(10, 12, waiting) == []  # capacity lowered below the seats taken
    assert len(domain.to_promote(None, 50, waiting)) == 5


# --- window, approval, changes ---


def test_registration_window():
    opens, closes = T0, T0 + timedelta(days=30)

    assert domain.window_state(opens, closes, opens - timedelta(seconds=1)) == domain.WINDOW_NOT_YET
    assert domain.window_state(opens, closes, opens) == domain.WINDOW_OPEN
    assert domain.window_state(opens, closes, closes - timedelta(seconds=1)) == domain.WINDOW_OPEN
    assert domain.window_state(opens, closes, closes) == domain.WINDOW_CLOSED
    assert domain.window_state(None, None, T0) == domain.WINDOW_OPEN
    assert str(domain.window_problem(opens, closes, closes)) == "Inscription : les inscriptions sont closes."


def test_approval_mode_makes_self_registrations_pending():
    assert domain.initial_status(True) == "pending"
    assert domain.initial_status(False) == "confirmed"
    assert domain.initial_status(True, by_organiser=True) == "confirmed"


def test_changing_choices_keeps_the_unchanged_ones():
    change = domain.diff_choices(["A1", "A5"], ["a6", "A1"])

    assert (change.kept, change.dropped, change.added) == (["A1"], ["A5"], ["A6"])


def test_add_months_keeps_the_day_or_takes_the_last_of_a_shorter_month():
    from datetime import date

    from forum_app.registration.domain import add_months, erasure_due

    assert add_months(date(2019, 6, 7), 12) == date(2020, 6, 7)
    assert add_months(date(2020, 1, 31), 1) == date(2020, 2, 29)
    assert add_months(date(2019, 12, 15), 1) == date(2020, 1, 15)
    assert not erasure_due(date(2019, 6, 7), date(2020, 6, 7))
    assert erasure_due(date(2019, 6, 7), date(2020, 6, 8))
