"""`flask backup` and `flask restore` on a database of the run's kind: a SQLite file, or (with
TEST_DATABASE_URL) scratch PostgreSQL databases created beside the suite's and dropped after."""
from __future__ import annotations

import io
import json
import shutil
import sqlite3
import stat
import tarfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_migrate import stamp
from PIL import Image

from forum_app import create_app
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.maintenance import backup
from forum_app.registration.models import Registration
from tests.conftest import DEMO_JSON
from tests.databases import ON_POSTGRESQL, drop_database, file_database_url

KIND = "postgresql" if ON_POSTGRESQL else "sqlite"
CAPTURED = datetime(2019, 6, 6, 10, 0, tzinfo=UTC).isoformat()


# --- set-up ----------------------------------------------------------------------------------------
# Making an app costs about a second and a PostgreSQL database several: one source forum and its
# archive serve the whole module, and one target database is emptied before each test.


def _app(url: str, uploads: Path):
    config = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
    config.update(SQLALCHEMY_DATABASE_URI=url, NOTES_UPLOAD_DIR=str(uploads))
    return create_app(config)


def _schema(app) -> None:
    with app.app_context():
        db.create_all()
        stamp()  # at the migrations' head, as `flask db upgrade` leaves it


def _photo(colour) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (640, 427), colour).save(out, "JPEG")
    out.seek(0)
    return out


def _stop(app) -> None:
    """As a stopped app: no connection left open."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _forum(app) -> None:
    """The demo programme, an organiser, three people (one in a delegation), a note and two photos."""
    from forum_app.auth import services as auth_services
    from forum_app.notes import photos
    from forum_app.notes import services as notes_services
    from forum_app.programme import imports
    from forum_app.registration import services as registrations
    from forum_app.registration.services import RegistrationInput

    _schema(app)
    with app.app_context():
        event = imports.import_schedule_file(DEMO_JSON).event
        organiser = auth_services.ensure_user("orga-backup@example.org", "correct-horse-battery", event=event,
                                              role="organiser")
        nord = registrations.create_delegation(event, "Délégation Nord", territory="Hauts-de-France")
        people = [
            RegistrationInput(first_name="Maëlle", last_name="Sauvegarde", email="maelle@example.org",
                              category="elu", delegation_id=nord.id, workshop_codes=["A1"], consent=True),
            RegistrationInput(first_name="Noé", last_name="Archive", email="noe@example.org", category="association",
                              consent=True),
            RegistrationInput(first_name="Iris", last_name="Restaure", email="iris@example.org", category="etat",
                              accessibility_needs="Fauteuil roulant", consent=True),
        ]
        registrations.register_many(event, people, source="desk", notify=False)
        session = next(s for s in event.sessions if s.code == "A1")
        notes_services.add_item(event, session, organiser, {"client_id": uuid.uuid4().hex, "kind": "key_point",
                                                            "text": "Le foncier manque.", "captured_at": CAPTURED})
        for colour in ((30, 90, 160), (200, 120, 40)):
            stored = photos.store(event.id, _photo(colour))
            notes_services.add_item(event, session, organiser,
                                    {"client_id": uuid.uuid4().hex, "kind": "photo", "text": "L'atelier A1",
                                     "captured_at": CAPTURED}, photo={**stored, "credit": "Équipe"})
    _stop(app)


def _other_forum(app) -> None:
    """What a database holding data looks like: another programme, another photo."""
    from forum_app.notes import photos
    from forum_app.programme import imports

    _schema(app)
    with app.app_context():
        event = imports.import_schedule_file(DEMO_JSON).event
        photos.store(event.id, _photo((10, 160, 60)))
    _stop(app)


def _rows(app) -> dict[str, list]:
    """What a restore must bring back, read through the app."""
    from forum_app.notes.models import NoteItem

    with app.app_context():
        return {
            "people": db.session.execute(
                db.select(Registration.email, Registration.last_name, Registration.accessibility_needs,
                          Registration.delegation_id).order_by(Registration.id)
            ).all(),
            "notes": db.session.execute(db.select(NoteItem.text, NoteItem.photo_file).order_by(NoteItem.id)).all(),
        }


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _backup(app, output: Path) -> Path:
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(output)])
    assert result.exit_code == 0, result.output
    archives = sorted(output.glob("forum-backup-*.tar"))
    assert len(archives) == 1
    return archives[0]


def _restore(app, archive: Path, *options: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["restore", str(archive), *options], input=input)


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def _rewrite(archive: Path, destination: Path, change) -> Path:
    """A copy of the archive with its members passed through change(name, data) -> (name, data)."""
    with tarfile.open(archive) as source, tarfile.open(destination, "w") as target:
        for member in source.getmembers():
            name, data = change(member.name, source.extractfile(member).read())
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return destination


class Made:
    """The module's source forum, its archive, and the target app (emptied before each test)."""

    def __init__(self, root: Path):
        self.root = root
        self.urls = [file_database_url(root, "source.db", suffix="backup_source"),
                     file_database_url(root, "target.db", suffix="backup_target")]
        self.source = _app(self.urls[0], root / "uploads-source")
        _forum(self.source)
        self.archive = _backup(self.source, root / "backups")
        self.rows, self.files = _rows(self.source), _files(root / "uploads-source")
        _stop(self.source)
        self.target_uploads = root / "uploads-target"
        self.target = _app(self.urls[1], self.target_uploads)

    def empty_target(self) -> None:
        _stop(self.target)
        if ON_POSTGRESQL:
            with self.target.app_context(), db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
            _stop(self.target)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.root / "target.db") + suffix).unlink(missing_ok=True)
        shutil.rmtree(self.target_uploads, ignore_errors=True)

    def drop(self) -> None:
        for url in self.urls:
            if url.startswith("postgresql"):
                drop_database(url)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    made = Made(tmp_path_factory.mktemp("backups"))
    yield made
    made.drop()


@pytest.fixture
def target(made):
    """An app on an empty database with an empty photos folder."""
    made.empty_target()
    return made.target


# --- backup, then restore ---------------------------------------------------------------------------


def test_backup_writes_one_private_archive_with_its_manifest(made):
    result = made.source.test_cli_runner().invoke(args=["backup", "--output", str(made.root / "more")])

    archive = next((made.root / "more").glob("forum-backup-*Z.tar"))
    manifest = _manifest(archive)
    assert result.exit_code == 0, result.output
    assert str(archive) in result.output and " kB)" in result.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert not list((made.root / "more").glob(".*"))  # no temporary file left behind
    assert manifest["database"]["kind"] == KIND
    with made.source.app_context():
        assert manifest["migration"]["database"] == manifest["migration"]["code_head"] == backup.code_head()
    assert manifest["counts"]["registration"] == 3 and manifest["counts"]["event"] == 1
    assert manifest["uploads"] == {"files": 2, "bytes": sum(len(data) for data in made.files.values())}
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert sorted(names) == sorted([*manifest["members"], "manifest.json"])
    assert ("database.pgdump" if ON_POSTGRESQL else "database.sqlite3") in names
    assert all(len(member["sha256"]) == 64 for member in manifest["members"].values())


def test_restore_brings_back_every_row_and_photo_into_a_fresh_database(made, target):
    result = _restore(target, made.archive)

    assert result.exit_code == 0, result.output
    assert "Check passed: migration and row counts match the manifest." in result.output
    assert _rows(target) == made.rows
    assert _files(made.target_uploads) == made.files  # byte-identical photos
    assert len(made.files) == 2
    with target.app_context():
        assert backup.table_counts(db.session.connection()) == _manifest(made.archive)["counts"]


def test_restore_over_a_database_holding_data_asks_first(made, target):
    _other_forum(target)
    before, files = _rows(target), _files(made.target_uploads)

    refused = _restore(target, made.archive)
    declined = _restore(target, made.archive, input="n\n")
    unchanged = _rows(target), _files(made.target_uploads)
    accepted = _restore(target, made.archive, input="y\n")

    assert refused.exit_code == 1 and "add --yes to replace them" in refused.output
    assert declined.exit_code == 1
    assert unchanged == (before, files)
    assert accepted.exit_code == 0, accepted.output
    assert _rows(target) == made.rows
    assert _files(made.target_uploads) == made.files  # the target's own photo is gone with its database


def test_backup_while_another_thread_writes_keeps_every_row_committed_before_it(made, target, tmp_path):
    """Registrations and notes keep coming in while the backup runs: the archive holds every one
    committed before the backup started, and the state of one instant (its counts are the restored ones)."""
    from forum_app.auth import services as auth_services
    from forum_app.notes import services as notes_services
    from forum_app.notes.models import NoteItem
    from forum_app.programme.models import Event
    from forum_app.registration import services as registrations
    from forum_app.registration.services import RegistrationInput

    url = file_database_url(tmp_path, "busy.db", suffix="backup_busy")
    source = _app(url, tmp_path / "uploads-busy")
    committed: list[tuple[str, int]] = []  # ("registration" | "note", id), in commit order
    stop = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with source.app_context():
                event = db.session.scalar(db.select(Event))
                organiser = auth_services.find_user("orga-backup@example.org")
                session = next(s for s in event.sessions if s.code == "A2")
                n = 0
                while not stop.is_set() and n < 2000:
                    n += 1
                    person = RegistrationInput(first_name="Écrit", last_name=f"Pendant{n}",
                                               email=f"pendant{n}@example.org", category="autre", consent=True)
                    outcome = registrations.register_many(event, [person], source="desk", notify=False)[0]
                    committed.append(("registration", outcome.registration.id))
                    saved = notes_services.add_item(event, session, organiser, {
                        "client_id": uuid.uuid4().hex, "kind": "key_point", "text": f"Point {n}", "captured_at": CAPTURED})
                    committed.append(("note", saved.item["id"]))
                db.session.remove()
        except BaseException as error:  # reported by the test below
            failures.append(error)

    try:
        _forum(source)
        writer = threading.Thread(target=write)
        writer.start()
        try:
            deadline = time.monotonic() + 30
            while len(committed) < 20 and time.monotonic() < deadline and not failures:
                time.sleep(0.01)
            before = list(committed)
            archive = _backup(source, tmp_path / "backups")
            time.sleep(0.2)  # and a few more after it
        finally:
            stop.set()
            writer.join(timeout=60)
        assert not failures, failures
        assert len(before) >= 20 and len(committed) > len(before)
        _stop(source)

        result = _restore(target, archive)
    finally:
        if ON_POSTGRESQL:
            drop_database(url)

    assert result.exit_code == 0, result.output
    with target.app_context():
        people = set(db.session.scalars(db.select(Registration.id)))
        notes = set(db.session.scalars(db.select(NoteItem.id)))
    assert {i for kind, i in before if kind == "registration"} <= people
    assert {i for kind, i in before if kind == "note"} <= notes
    # Nothing that was never committed, and the state of one instant: the manifest's counts.
    assert people - {i for kind, i in committed if kind == "registration"} == {1, 2, 3}  # the set-up's three
    assert len(people) == _manifest(archive)["counts"]["registration"]
    assert len(notes) == _manifest(archive)["counts"]["note_item"]
    if not ON_POSTGRESQL:
        restored = sqlite3.connect(made.root / "target.db")
        try:
            assert restored.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert restored.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            restored.close()


# --- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize("altered", ["database", "photo"])
def test_a_tampered_archive_is_refused_and_nothing_changes(made, target, altered):
    _other_forum(target)
    rows, files = _rows(target), _files(made.target_uploads)

    def flip_one_byte(name: str, data: bytes) -> tuple[str, bytes]:
        hit = name.startswith("database.") if altered == "database" else name.startswith("uploads/")
        if hit:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
        return name, data

    tampered = _rewrite(made.archive, made.root / f"tampered-{altered}.tar", flip_one_byte)

    result = _restore(target, tampered, "--yes")

    assert result.exit_code == 1
    assert "refused, nothing was restored" in result.output
    assert "checksum differs from the manifest (damaged or altered)" in result.output
    assert _rows(target) == rows
    assert _files(made.target_uploads) == files


def test_an_archive_of_the_other_kind_of_database_is_refused(made, target):
    mine, other = ("database.pgdump", "database.sqlite3") if ON_POSTGRESQL else ("database.sqlite3", "database.pgdump")

    def other_kind(name: str, data: bytes) -> tuple[str, bytes]:
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["database"]["kind"] = "sqlite" if ON_POSTGRESQL else "postgresql"
            manifest["members"][other] = manifest["members"].pop(mine)
            return name, json.dumps(manifest).encode()
        return (other if name == mine else name), data

    foreign = _rewrite(made.archive, made.root / "foreign.tar", other_kind)

    result = _restore(target, foreign, "--yes")

    assert result.exit_code == 1
    expected = "holds a SQLite database" if ON_POSTGRESQL else "holds a PostgreSQL database"
    assert expected in result.output and "converting between the two is not supported" in result.output
    assert not made.target_uploads.exists()


def test_something_that_is_not_an_archive_is_refused(made, target):
    junk = made.root / "junk.tar"
    junk.write_bytes(b"not a tar file at all" * 100)

    result = _restore(target, junk, "--yes")

    assert result.exit_code == 1 and "not a readable backup archive" in result.output


def test_sqlite_restore_waits_for_the_app_to_be_stopped(made, target, tmp_path):
    """A SQLite file still open elsewhere (the app running) is never replaced under it. (SQLite
    files on both runs: the guard is SQLite's.)"""
    if ON_POSTGRESQL:
        source = _app(f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "uploads-source")
        _forum(source)
        archive, rows = _backup(source, tmp_path / "backups"), _rows(source)
        target = _app(f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "uploads-live")
        live = tmp_path / "live.db"
    else:
        archive, rows, live = made.archive, made.rows, made.root / "target.db"
    _other_forum(target)
    before = _rows(target)
    running_app = sqlite3.connect(live)
    running_app.execute("SELECT count(*) FROM event").fetchone()
    try:
        refused = _restore(target, archive, "--yes")
    finally:
        running_app.close()
    after_refusal = _rows(target)

    stopped = _restore(target, archive, "--yes")

    assert refused.exit_code == 1 and "is in use" in refused.output and "stop the app" in refused.output
    assert after_refusal == before
    assert stopped.exit_code == 0, stopped.output
    assert _rows(target) == rows


def test_missing_or_too_old_pg_tools_are_clear_errors(tmp_path):
    from forum_app.errors import DomainError

    (tmp_path / "empty").mkdir()
    with pytest.raises(DomainError) as missing:
        backup.find_pg_tool("pg_dump", 15, tmp_path / "empty")
    installed = Path(backup.find_pg_tool("pg_dump", 10)[0]).parent  # the machine's own client
    with pytest.raises(DomainError) as too_old:
        backup.find_pg_tool("pg_dump", 99, installed)

    assert "pg_dump not found" in missing.value.message and "PG_BIN_DIR" in missing.value.message
    assert "older than the server (PostgreSQL 99)" in too_old.value.message
