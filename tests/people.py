"""Registrations made as a person registering would make them, for tests that need someone."""
from __future__ import annotations

from forum_app.registration import services as registration
from forum_app.registration.models import Registration
from forum_app.registration.services import RegistrationInput


def register_person(event, n: int, **changes) -> Registration:
    """Person number `n` (Prénom<n> Nom<n>, Ville de Roubaix, collectivité), with `changes`."""
    values = {
        "first_name": f"Prénom{n}", "last_name": f"Nom{n}", "email": f"personne{n}@example.org",
        "organisation": "Ville de Roubaix", "category": "collectivite", "consent": True,
    }
    values.update(changes)
    return registration.register(event, RegistrationInput(**values)).registration
