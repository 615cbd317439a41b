"""Stations scanning at once on a real SQLite database file (WAL): one arrival per person.

Each thread has its own app context, hence its own database session and connection, as the
requests of a threaded server (or gunicorn workers sharing the file) would.
"""
from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from forum_app import create_app, mail
from forum_app.badges import services as badges
from forum_app.checkin import services
from forum_app.checkin.models import CheckIn
from forum_app.config import TestConfig
from forum_app.extensions import db
from tests.databases import ON_POSTGRESQL, drop_database, file_database_url
from forum_app.programme.models import Event
from forum_app.registration import services as registration
from forum_app.registration.services import RegistrationInput

DEMO_JSON = Path(__file__).resolve().parent.parent / "forum_app" / "demo_data" / "citescap-programme.json"
STATIONS = 10
PEOPLE = 30


@pytest.fixture
def file_app(tmp_path):
    url = file_database_url(tmp_path, suffix="concurrency")
    config = type(
        "FileDatabaseConfig",
        (TestConfig,),
        {
            # A SQLite file (WAL), or a PostgreSQL database of its own on the PostgreSQL run.
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": STATIONS + 5, "max_overflow": 0}
            | ({} if ON_POSTGRESQL else {"connect_args": {"timeout": 30}}),
        },
    )
    app = create_app(config)
    with app.app_context():
        db.create_all()
        from forum_app.programme import imports

        imports.import_schedule_file(DEMO_JSON)
        if not ON_POSTGRESQL:
            assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
    yield app
    with app.app_context():
        mail.flush(timeout=60)
        db.session.remove()
        db.engine.dispose()
    if ON_POSTGRESQL:
        drop_database(url)


def _event() -> Event:
    return db.session.scalar(db.select(Event).filter_by(slug="citescap2019"))


def _badges(app, count: int) -> list[str]:
    with app.app_context():
        event = _event()
        texts = []
        for i in range(count):
            person = registration.register(
                event,
                RegistrationInput(first_name=f"Prénom{i}", last_name=f"Nom{i}", email=f"p{i}@example.org", consent=True),
                source="desk",
            ).registration
            texts.append(badges.badge_payload(person))
        return texts


def _in_parallel(app, count: int, work) -> tuple[list, list]:
    """Run work(i) in `count` threads released together; returns (results, errors)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[i] = work(i)
            except Exception as error:  # noqa: BLE001 - collected, and asserted empty
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a station never finished"
    return results, errors


def _scan(text: str, client_id: str, station: str):
    return services.check_in(
        _event(), badge=text, client_id=client_id, station=station, scanned_at=datetime.now(UTC).isoformat()
    )


def test_ten_stations_scanning_the_same_thirty_badges_give_one_arrival_each(file_app):
    texts = _badges(file_app, PEOPLE)

    def station(i: int):
        order = list(range(PEOPLE))
        random.Random(i).shuffle(order)
        return [(n, _scan(texts[n], f"station{i:02d}-{n:04d}", f"porte {i}").answer["outcome"]) for n in order]

    results, errors = _in_parallel(file_app, STATIONS, station)

    assert errors == []
    outcomes = [outcome for answers in results for _, outcome in answers]
    assert len(outcomes) == STATIONS * PEOPLE
    assert outcomes.count("checked_in") == PEOPLE
    assert outcomes.count("already_checked_in") == STATIONS * PEOPLE - PEOPLE
    with file_app.app_context():
        rows = list(db.session.scalars(db.select(CheckIn)))
        assert len(rows) == STATIONS * PEOPLE
        per_person: dict[int, int] = {}
        for row in rows:
            if row.outcome == "checked_in":
                per_person[row.registration_id] = per_person.get(row.registration_id, 0) + 1
        assert sorted(per_person.values()) == [1] * PEOPLE
        assert len(services.arrivals(_event())) == PEOPLE


def test_the_same_client_id_replayed_at_once_records_one_row(file_app):
    (text,) = _badges(file_app, 1)

    results, errors = _in_parallel(file_app, STATIONS, lambda i: _scan(text, "station01-retry01", "porte 1"))

    assert errors == []
    assert sum(r.created for r in results) == 1
    assert len({repr(sorted(r.answer.items())) for r in results}) == 1
    assert results[0].answer["outcome"] == "checked_in"
    with file_app.app_context():
        assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 1
