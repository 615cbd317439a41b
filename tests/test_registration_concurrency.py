"""Parallel sign-ups on a real SQLite database file: the last seats are never overbooked.

Each thread has its own app context, hence its own database session and connection, as the
requests of a threaded server (or gunicorn workers sharing the file) would. The threads wait at a
barrier and register at the same moment.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from forum_app import create_app, mail
from forum_app.config import TestConfig
from forum_app.extensions import db
from tests.databases import ON_POSTGRESQL, drop_database, file_database_url
from forum_app.programme.models import Event, Session
from forum_app.registration import services
from forum_app.registration.models import Registration, WorkshopSeat

DEMO_JSON = Path(__file__).resolve().parent.parent / "forum_app" / "demo_data" / "citescap-programme.json"


@pytest.fixture
def file_app(tmp_path):
    url = file_database_url(tmp_path, suffix="concurrency")
    config = type(
        "FileDatabaseConfig",
        (TestConfig,),
        {
            # A SQLite file (WAL), or a PostgreSQL database of its own on the PostgreSQL run.
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 40, "max_overflow": 0}
            | ({} if ON_POSTGRESQL else {"connect_args": {"timeout": 30}}),
            # As in production: mails are composed on the background thread, after the commit.
            "MAIL_ASYNC": True,
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


def _set_capacity(app, code: str, capacity: int) -> None:
    with app.app_context():
        session = db.session.scalar(db.select(Session).filter_by(code=code))
        session.capacity = capacity
        db.session.commit()


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

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a registration never finished"
    return results, errors


def _event() -> Event:
    return db.session.scalar(db.select(Event).filter_by(slug="citescap2019"))


def _person(i: int, **changes) -> services.RegistrationInput:
    values = {
        "first_name": f"Prénom{i}", "last_name": f"Nom{i}", "email": f"personne{i}@example.org", "consent": True,
        "workshop_codes": ["A3"],
    }
    values.update(changes)
    return services.RegistrationInput(**values)


def _seats(app, code: str) -> list[tuple[str, object, int, str]]:
    """(status, requested_at, seat id, email) of the workshop's seats held by active registrations."""
    with app.app_context():
        rows = db.session.execute(
            db.select(WorkshopSeat.status, WorkshopSeat.requested_at, WorkshopSeat.id, Registration.email)
            .join(Registration, Registration.id == WorkshopSeat.registration_id)
            .join(Session, Session.id == WorkshopSeat.session_id)
            .where(Session.code == code, Registration.status.in_(("pending", "confirmed")))
            .order_by(WorkshopSeat.requested_at, WorkshopSeat.id)
        ).all()
        return [tuple(row) for row in rows]


def test_thirty_parallel_sign_ups_for_five_seats_never_overbook(file_app):
    _set_capacity(file_app, "A3", 5)

    def sign_up(i: int):
        outcome = services.register(_event(), _person(i))
        seat = outcome.registration.seats[0]
        return outcome.created, seat.status, services.seat_position(seat)

    results, errors = _in_parallel(file_app, 30, sign_up)

    assert errors == []
    assert all(created for created, _, _ in results)
    assert sum(status == "confirmed" for _, status, _ in results) == 5
    assert sorted(pos for _, status, pos in results if status == "waitlisted") == list(range(1, 26))
    seats = _seats(file_app, "A3")
    assert [status for status, *_ in seats] == ["confirmed"] * 5 + ["waitlisted"] * 25  # in arrival order
    with file_app.app_context():
        positions = services.waitlist_positions(
            db.session.scalars(db.select(WorkshopSeat).where(WorkshopSeat.status == "waitlisted"))
        )
        by_arrival = [positions[seat_id] for status, _, seat_id, _ in seats if status == "waitlisted"]
        assert by_arrival == list(range(1, 26))
        available = next(a for a in services.availability(_event()) if a.session.code == "A3")
        assert (available.confirmed, available.waitlisted, available.seats_left) == (5, 25, 0)
        assert mail.flush(timeout=120)
        assert len(mail.memory_outbox()) == 30


def test_parallel_submits_of_the_same_address_register_once(file_app):
    def sign_up(i: int):
        email = "Meme.Personne@example.org" if i % 2 else "meme.personne@EXAMPLE.org"
        return services.register(_event(), _person(0, email=email)).created

    results, errors = _in_parallel(file_app, 10, sign_up)

    assert errors == []
    assert sorted(results) == [False] * 9 + [True]
    with file_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Registration.id))) == 1
        assert db.session.scalar(db.select(db.func.count(WorkshopSeat.id))) == 1


def test_cancellations_racing_new_sign_ups_keep_the_count_and_the_order(file_app):
    _set_capacity(file_app, "A3", 5)
    with file_app.app_context():
        holders = [services.register(_event(), _person(i)).registration.id for i in range(5)]
        for i in range(5, 10):
            services.register(_event(), _person(i))

    def work(i: int):
        if i < 5:  # the five seat holders cancel...
            return services.cancel(db.session.get(Registration, holders[i])).status
        return services.register(_event(), _person(100 + i)).created  # ...while ten more sign up

    _, errors = _in_parallel(file_app, 15, work)

    assert errors == []
    seats = _seats(file_app, "A3")
    confirmed = [email for status, _, _, email in seats if status == "confirmed"]
    assert len(confirmed) == 5
    # The five who waited before the race got the five freed seats, whatever the interleaving.
    assert sorted(confirmed) == [f"personne{i}@example.org" for i in range(5, 10)]
    assert len(seats) == 15
