"""The report's pure rules: which notes appear, in what order, with which words and attribution."""
from __future__ import annotations

import json

from forum_app.notes.domain import Attribution
from forum_app.report import domain
from forum_app.report.domain import (
    ApprovalFacts,
    AttendeeFacts,
    DelegationFacts,
    EventFacts,
    ItemChoice,
    NoteFacts,
    Photo,
    SectionChoice,
    SessionFacts,
    Settings,
)

EVENT = EventFacts(slug="forum", title="Forum 2019", start_date="2019-06-06", end_date="2019-06-06")
A1 = SessionFacts(id=1, code="A1", title="Atelier immobilier", kind="workshop", kind_label="Atelier")
A2 = SessionFacts(id=2, code="A2", title="Atelier Europe", kind="workshop", kind_label="Atelier")
LUNCH = SessionFacts(id=3, code="L", title="Déjeuner", kind="lunch", kind_label="Déjeuner")
NAMED = Attribution("Siham Hadjam", "Fondatrice", "Cyconia")


def note(id, session_id=1, kind="key_point", text="Un point", **kwargs) -> NoteFacts:
    return NoteFacts(id=id, session_id=session_id, kind=kind, text=text, **kwargs)


def assemble(notes, sessions=(A1, A2, LUNCH), settings=Settings(), **kwargs) -> domain.Document:
    return domain.assemble(EVENT, settings, sessions, notes, **kwargs)


def test_assemble_groups_items_by_block_in_a_fixed_order():
    notes = [
        note(1, kind="question", text="Et le financement ?"),
        note(2, kind="quote", text="Citation", attribution=NAMED),
        note(3, kind="key_point", text="Point"),
        note(4, kind="figure", text="120 entreprises"),
    ]

    document = assemble(notes)

    assert [kind for kind, _ in document.sections[0].blocks()] == ["key_point", "figure", "quote", "question"]


def test_assemble_leaves_out_deleted_merged_and_moderated_notes():
    notes = [
        note(1, text="Gardé"),
        note(2, text="Supprimé", deleted=True),
        note(3, text="Fusionné", merged=True),
        note(4, text="Écarté par l'organisation", in_report=False),
    ]

    document = assemble(notes)

    assert [item.text for item in document.sections[0].items] == ["Gardé"]


def test_assemble_never_makes_an_empty_heading_lists_the_session_instead():
    document = assemble([note(1, session_id=1)])

    assert [s.code for s in document.sections] == ["A1"]
    assert [m.code for m in document.other_sessions] == ["A2"]  # the lunch is not a debate: not listed


def test_assemble_omits_sessions_without_content_when_the_editor_chose_so():
    document = assemble([note(1)], settings=Settings(empty_sessions=domain.EMPTY_OMIT))

    assert document.other_sessions == []


def test_assemble_keeps_a_session_whose_only_content_is_the_editors_summary():
    document = assemble([], section_choices={2: SectionChoice(summary_md="Un échange riche.")})

    assert [s.code for s in document.sections] == ["A2"]


def test_assemble_with_no_notes_at_all_still_builds():
    document = assemble([])

    assert document.is_empty
    assert document.title == "Forum 2019"


def test_item_choice_rewrites_and_hides_without_touching_the_note():
    original = note(1, text="Texte long et brut de la note")
    notes = [original, note(2, text="Masqué")]

    document = assemble(notes, item_choices={1: ItemChoice(text="Texte raccourci"), 2: ItemChoice(hidden=True)})

    assert [item.text for item in document.sections[0].items] == ["Texte raccourci"]
    assert original.text == "Texte long et brut de la note"


def test_items_placed_by_the_editor_come_first_then_later_notes_in_capture_order():
    notes = [note(1, position=1, text="un"), note(2, position=2, text="deux"), note(3, position=3, text="trois")]

    document = assemble(notes, item_choices={3: ItemChoice(position=0), 1: ItemChoice(position=1)})

    assert [item.text for item in document.sections[0].items] == ["trois", "un", "deux"]


def test_sections_follow_the_editors_order_then_the_programme():
    notes = [note(1, session_id=1), note(2, session_id=2)]

    document = assemble(notes, section_choices={2: SectionChoice(position=0)})

    assert [s.code for s in document.sections] == ["A2", "A1"]


def test_hidden_section_is_left_out_entirely():
    document = assemble([note(1, session_id=1)], section_choices={1: SectionChoice(hidden=True)})

    assert document.sections == []
    assert [m.code for m in document.other_sessions] == ["A2"]


def test_quote_without_a_name_reads_participant_and_needs_no_consent():
    document = assemble([note(1, kind="quote", text="Depuis la salle")], publishing=True)

    item = document.sections[0].items[0]
    assert item.attribution == "Participant·e"
    assert item.approval == domain.NOT_NEEDED


def test_named_quote_is_shown_in_a_draft_but_left_out_of_a_publication_until_approved():
    quote = note(1, kind="quote", text="Mot pour mot", attribution=NAMED)

    draft = assemble([quote])
    published = assemble([quote], publishing=True)

    assert draft.sections[0].items[0].approval == domain.NOT_ASKED
    assert published.sections == []


def test_approved_quote_is_published_with_its_attribution():
    quote = note(1, kind="quote", text="Mot pour mot", attribution=NAMED)
    approvals = {1: ApprovalFacts(domain.APPROVED, text_sent="Mot pour mot", final_text="Mot pour mot")}

    published = assemble([quote], approvals=approvals, publishing=True)

    item = published.sections[0].items[0]
    assert (item.text, item.attribution) == ("Mot pour mot", "Siham Hadjam, Fondatrice, Cyconia")


def test_amended_quote_is_published_in_the_persons_own_words_and_title():
    quote = note(1, kind="quote", text="Mot pour mot", attribution=NAMED)
    approvals = {
        1: ApprovalFacts(domain.AMENDED, "Mot pour mot", "Mes propres mots", final_job_title="Présidente")
    }

    item = assemble([quote], approvals=approvals, publishing=True).sections[0].items[0]

    assert (item.text, item.attribution) == ("Mes propres mots", "Siham Hadjam, Présidente, Cyconia")


def test_quote_changed_after_approval_needs_consent_again():
    quote = note(1, kind="quote", text="Mot pour mot", attribution=NAMED)
    approvals = {1: ApprovalFacts(domain.APPROVED, "Mot pour mot", "Mot pour mot")}

    rewritten = {1: ItemChoice(text="Autres mots")}
    draft = assemble([quote], approvals=approvals, item_choices=rewritten)
    published = assemble([quote], approvals=approvals, item_choices=rewritten, publishing=True)

    assert draft.sections[0].items[0].approval == domain.STALE
    assert published.sections == []


def test_refused_quote_is_dropped_or_anonymised_as_the_report_says():
    quote = note(1, kind="quote", text="Mot pour mot", attribution=NAMED)
    approvals = {1: ApprovalFacts(domain.REFUSED, "Mot pour mot")}

    dropped = assemble([quote], approvals=approvals, publishing=True)
    anonymised = assemble(
        [quote], approvals=approvals, publishing=True, settings=Settings(refused_quotes=domain.REFUSED_ANONYMISE)
    )

    assert dropped.sections == []
    assert anonymised.sections[0].items[0].attribution == "Participant·e"


def test_photo_without_a_stored_file_is_left_out_and_cover_comes_from_the_chosen_photo():
    picture = Photo("a" * 32 + ".jpg", 1600, 1067)
    notes = [
        note(1, kind="photo", text="La salle pleine", photo=picture),
        note(2, kind="photo", text="Sans fichier", photo=None),
    ]

    document = assemble(notes, settings=Settings(cover_item_id=1))

    assert [item.text for item in document.sections[0].items] == ["La salle pleine"]
    assert document.cover.caption == "La salle pleine"
    assert document.photos == [document.cover, document.sections[0].items[0].photo]


def test_count_attendance_by_category_territory_and_delegation():
    people = [
        AttendeeFacts("Collectivité", "Hauts-de-France", 7, "CU Dunkerque", True),
        AttendeeFacts("Collectivité", "Hauts-de-France", 7, "CA Valenciennes Métropole", False),
        AttendeeFacts("Association", "Bretagne", None, "Horizon", True),
        AttendeeFacts("Association", "", None, "", True),
    ]

    figures = domain.count_attendance(people, [DelegationFacts(7, "Hauts-de-France", "Hauts-de-France"),
                                               DelegationFacts(8, "Vide")])

    assert (figures.registered, figures.present, figures.organisations) == (4, 3, 3)
    assert [(r.label, r.registered, r.present) for r in figures.by_category] == [
        ("Association", 2, 2), ("Collectivité", 2, 1)
    ]
    assert [(r.label, r.registered) for r in figures.by_territory] == [("Hauts-de-France", 2), ("Bretagne", 1)]
    assert [(d.name, d.members, d.present, d.organisations) for d in figures.delegations] == [
        ("Hauts-de-France", 2, 1, ["CA Valenciennes Métropole", "CU Dunkerque"])
    ]


def test_attendance_is_left_out_when_the_editor_hides_it():
    figures = domain.count_attendance([], [])

    document = assemble([note(1)], attendance=figures, settings=Settings(show_attendance=False))

    assert document.attendance is None


def test_section_fingerprint_changes_with_any_word_of_the_section():
    before = assemble([note(1, text="Avant")]).sections[0]
    after = assemble([note(1, text="Après")]).sections[0]

    assert domain.section_fingerprint(before) != domain.section_fingerprint(after)
    assert domain.section_fingerprint(before) == domain.section_fingerprint(assemble([note(1, text="Avant")]).sections[0])


def test_clean_override_empty_means_the_notes_words_and_too_long_is_refused_not_cut():
    assert domain.clean_override("   ") is None
    assert domain.clean_override(" Court ") == "Court"
    try:
        domain.clean_override("x" * 5001)
    except ValueError:
        pass
    else:
        raise AssertionError("an overlong rewrite must be refused")


def test_document_round_trips_through_json_unchanged():
    picture = Photo("b" * 32 + ".jpg", 800, 600, "Légende", "Crédit")
    notes = [
        note(1, kind="quote", text="Dit <b>fort</b>", attribution=NAMED),
        note(2, kind="photo", text="Légende", photo=picture),
    ]
    people = [AttendeeFacts("Élu·e", "Bretagne", 1, "Rennes", True)]
    document = assemble(
        notes,
        sessions=(A1,),
        attendance=domain.count_attendance(people, [DelegationFacts(1, "Bretagne")]),
        settings=Settings(cover_item_id=2),
    )

    restored = domain.from_dict(json.loads(json.dumps(domain.to_dict(document))))

    assert restored == document
