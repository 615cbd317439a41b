"""Report documents built by hand (domain dataclasses, no database) for the renderers' tests."""
from __future__ import annotations

from forum_app.report import domain


def sample_event() -> domain.EventFacts:
    return domain.EventFacts("forum-test", "Forum test", "2019-06-06", "2019-06-06", venue="Rennes", language="fr")


def sample_section(items: list[domain.Item], **overrides) -> domain.Section:
    """Atelier 1 with one speaker and the given items."""
    values = dict(
        session_id=1,
        code="A1",
        title="Atelier 1 — Immobilier d'entreprise",
        kind="workshop",
        kind_label="Atelier",
        starts="2019-06-06T11:30",
        ends="2019-06-06T13:00",
        room="Salle Vilaine",
        people=[domain.PersonLine("Claire Roussel", "Responsable", "Banque des Territoires", "Intervenante")],
        items=items,
    )
    values.update(overrides)
    return domain.Section(**values)


def sample_document(sections: list[domain.Section], lead: str, **overrides) -> domain.Document:
    values = dict(
        event=sample_event(),
        title="Retour sur le Forum test",
        lead=lead,
        organised_by="RésOVilles",
        sections=sections,
    )
    values.update(overrides)
    return domain.Document(**values)
