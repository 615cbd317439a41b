"""Backups and restores of the database and the uploaded photos, as one archive.

`create_backup()` writes `forum-backup-<UTC time>.tar` holding:

- `database.sqlite3`: a copy made with SQLite's online backup API (`sqlite3.Connection.backup`,
  in one step: one read transaction, so the copy is the database as it stood at one instant even
  while the app keeps writing, WAL letting the writers go on); or `database.pgdump`: `pg_dump
  --format=custom` run on a snapshot exported by a REPEATABLE READ transaction, the same one that
  counts the rows, so the counts describe exactly what was dumped;
- `uploads/...`: the rapporteurs' photos (NOTES_UPLOAD_DIR), which published reports show;
- `manifest.json`: app version, migration revision (of the database, and the code's head), kind of
  database, rows per table, SHA-256 and size of every other member.

The archive is written under a temporary name (mode 0600: it holds personal data) and renamed when
complete, so a half-written archive never carries the final name.

`restore()` (after `open_archive()` checked every member against the manifest and
`check_restorable()` the kind of database) replaces the configured database and the photos, then
compares the restored database with the manifest. The application must be stopped while it runs.

The checksums detect a damaged or altered member; they are not a signature (whoever can rewrite the
manifest can rewrite them): keep archives where only operators can write.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from glob import glob
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from forum_app.errors import DomainError
from forum_app.extensions import db
from forum_app.maintenance import domain

CHUNK = 1024 * 1024
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class BackupError(DomainError):
    """The backup or the restore cannot go on; `message` says why, for the operator."""


class NotEmpty(BackupError):
    """The target database holds data (restore asks for --yes or a confirmation first)."""


# --------------------------------------------------------------------------- the configured database


@dataclass(frozen=True)
class Target:
    kind: str  # domain.SQLITE or domain.POSTGRESQL
    url: sa.engine.URL
    path: Path | None = None  # SQLite: the database file

    @property
    def member(self) -> str:
        return domain.DATABASE_MEMBERS[self.kind]

    @property
    def shown(self) -> str:
        return str(self.path) if self.path else self.url.render_as_string(hide_password=True)


def target() -> Target:
    """The database the app is configured for (DATABASE_URL)."""
    url = db.engine.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise BackupError("The database is in memory (or a SQLite URI): only a SQLite file can be backed up or restored.")
        return Target(domain.SQLITE, url, Path(database).resolve())
    if backend == "postgresql":
        return Target(domain.POSTGRESQL, url)
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {backend}.")


def code_head() -> str | None:
    """The newest migration of this version of the code."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    directory = current_app.extensions["migrate"].directory
    config = AlembicConfig()
    config.set_main_option("script_location", str(directory))
    heads = ScriptDirectory.from_config(config).get_heads()
    return ",".join(sorted(heads)) or None


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("forum_app")
    except PackageNotFoundError:  # pragma: no cover - the app runs from an installed checkout
        return "unknown"


def table_counts(connection) -> dict[str, int]:
    """Rows per table of the connection's database (default schema)."""
    names = sa.inspect(connection).get_table_names()
    return {
        name: int(connection.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one())
        for name in sorted(names)
    }


def revision(connection, counts: dict[str, int] | None = None) -> str | None:
    """The database's migration revision (alembic_version), or None when it has none."""
    names = counts if counts is not None else sa.inspect(connection).get_table_names()
    if "alembic_version" not in names:
        return None
    versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return ",".join(sorted(versions)) or None


def data_rows(counts: dict[str, int]) -> int:
    """Rows that are data (the migration stamp of an empty, migrated database is not)."""
    return sum(count for table, count in counts.items() if table != "alembic_version")


def target_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return table_counts(connection)


# --------------------------------------------------------------------------- PostgreSQL client tools


def _version_of(path: str) -> int | None:
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return domain.tool_major(result.stdout)


def find_pg_tool(name: str, wanted_major: int, bin_dir: str | os.PathLike | None = None) -> tuple[str, int]:
    """The `pg_dump` or `pg_restore` to run for a server of `wanted_major`: from `bin_dir` only
    when given (PG_BIN_DIR), else on PATH and in Debian's /usr/lib/postgresql/<major>/bin."""
    places: list[str] = []
    if bin_dir:
        places.append(str(Path(bin_dir) / name))
    else:
        on_path = shutil.which(name)
        if on_path:
            places.append(on_path)
        places += [str(Path(directory) / name) for directory in sorted(glob(PG_BIN_GLOB))]
    candidates: list[tuple[str, int | None]] = []
    for place in dict.fromkeys(places):
        if os.path.isfile(place) and os.access(place, os.X_OK):
            candidates.append((place, _version_of(place)))
    chosen = domain.choose_tool(candidates, wanted_major)
    if chosen is None:
        raise BackupError(domain.tool_problem(name, candidates, wanted_major))
    return chosen, dict(candidates)[chosen] or wanted_major


def _libpq_env(url: sa.engine.URL) -> tuple[dict[str, str], list[str]]:
    """The process environment for pg_dump/pg_restore: the URL's parts as PG* variables (the
    password in PGPASSWORD, never on a command line, where `ps` would show it)."""
    extra, unknown = domain.libpq_environment(url.host, url.port, url.username, url.password, url.database, url.query)
    return {**os.environ, **extra}, unknown


def _run(command: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise BackupError(f"{what} failed (exit status {result.returncode}):\n{detail}")
    return result


def _server_major(connection) -> tuple[int, str]:
    number = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one())
    text = connection.exec_driver_sql("SHOW server_version").scalar_one()
    return domain.server_major(number), str(text).split()[0]


# --------------------------------------------------------------------------- backup


@dataclass
class BackupResult:
    path: Path
    size: int
    manifest: dict
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Snapshot:
    counts: dict[str, int]
    revision: str | None
    server_version: str
    tool: str = ""
    tool_major: int | None = None
    warnings: list[str] = field(default_factory=list)


def _sqlite_snapshot(source: Path, copy: Path) -> _Snapshot:
    """The database at one instant, through SQLite's online backup API: `pages=-1` copies every
    page in one step, inside one read transaction (writers carry on in the WAL meanwhile)."""
    if not source.is_file():
        raise BackupError(f"The SQLite database {source} does not exist.")
    reader = sqlite3.connect(source, timeout=30)
    try:
        reader.execute("PRAGMA busy_timeout=30000")
        writer = sqlite3.connect(copy)
        try:
            reader.backup(writer, pages=-1)
            verdict = writer.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            writer.close()
    finally:
        reader.close()
    if verdict != "ok":
        raise BackupError(f"The copy of {source} fails SQLite's integrity check: {verdict}")
    engine = sa.create_engine(f"sqlite:///{copy}", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            counts = table_counts(connection)
            found = revision(connection, counts)
    finally:
        engine.dispose()
    return _Snapshot(counts, found, sqlite3.sqlite_version, tool=f"sqlite3 backup API (SQLite {sqlite3.sqlite_version})")


def _postgresql_snapshot(place: Target, dump: Path) -> _Snapshot:
    """pg_dump of the snapshot of a REPEATABLE READ transaction that counts the rows meanwhile."""
    with db.engine.connect() as probe:
        major, version = _server_major(probe)
    tool, tool_major = find_pg_tool("pg_dump", major, current_app.config.get("PG_BIN_DIR"))
    env, unknown = _libpq_env(place.url)
    warnings = [f"ignored in the database URL (not a libpq parameter): {key}" for key in unknown]
    connection = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        connection.begin()
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        counts = table_counts(connection)
        found = revision(connection, counts)
        _run(
            [tool, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={dump}"],
            env,
            "pg_dump",
        )
        connection.rollback()
    finally:
        connection.close()
    return _Snapshot(counts, found, version, tool=f"pg_dump {tool_major} ({tool})", tool_major=tool_major, warnings=warnings)


def upload_root() -> Path:
    from forum_app.notes import photos

    return photos.upload_root()


def _upload_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(member name, path) of every uploaded file, in a stable order; links and odd names skipped."""
    if not root.is_dir():
        return
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        relative = Path(directory).relative_to(root).parts
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_symlink() or not path.is_file():
                continue
            member = domain.upload_member([*relative, name])
            if member is not None:
                yield member, path


def _tar_info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_file(tar: tarfile.TarFile, name: str, path: Path, mtime: float) -> dict:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    with path.open("rb") as handle:
        tar.addfile(_tar_info(name, size, mtime), handle)
    return {"sha256": digest.hexdigest(), "size": size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> dict:
    tar.addfile(_tar_info(name, len(data), mtime), io.BytesIO(data))
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _free_path(directory: Path, name: str) -> Path:
    path = directory / name
    number = 2
    while path.exists():
        path = directory / name.replace(".tar", f"-{number}.tar")
        number += 1
    return path


def default_output() -> Path:
    return Path(current_app.instance_path) / "backups"


def create_backup(output_dir: Path | None = None) -> BackupResult:
    """Write one archive of the database and the uploaded photos into `output_dir`."""
    place = target()
    directory = Path(output_dir) if output_dir else default_output()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    moment = datetime.now(UTC)
    stamp = moment.timestamp()
    final = _free_path(directory, domain.archive_name(moment))
    with tempfile.TemporaryDirectory(dir=directory, prefix=".forum-backup-work-") as work:  # mode 0700
        copy = Path(work) / place.member
        if place.kind == domain.SQLITE:
            snapshot = _sqlite_snapshot(place.path, copy)
        else:
            snapshot = _postgresql_snapshot(place, copy)
        part = directory / f".{final.name}.part"
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    members = {place.member: _add_file(tar, place.member, copy, stamp)}
                    uploads = 0
                    upload_bytes = 0
                    for name, path in _upload_files(upload_root()):
                        try:
                            mtime = path.stat().st_mtime
                            data = path.read_bytes()  # read once: hashed and stored from the same bytes
                        except FileNotFoundError:  # deleted meanwhile
                            continue
                        members[name] = _add_bytes(tar, name, data, mtime)
                        uploads += 1
                        upload_bytes += len(data)
                    manifest = {
                        "format": domain.ARCHIVE_FORMAT,
                        "created_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "app_version": app_version(),
                        "migration": {"database": snapshot.revision, "code_head": code_head()},
                        "database": {
                            "kind": place.kind,
                            "member": place.member,
                            "server_version": snapshot.server_version,
                            "made_with": snapshot.tool,
                            "tool_major": snapshot.tool_major,
                        },
                        "counts": snapshot.counts,
                        "uploads": {"files": uploads, "bytes": upload_bytes},
                        "members": members,
                    }
                    data = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
                    _add_bytes(tar, domain.MANIFEST, data, stamp)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(part, final)
            _fsync_directory(directory)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    return BackupResult(final, final.stat().st_size, manifest, snapshot.warnings)


# --------------------------------------------------------------------------- reading an archive


@dataclass
class Archive:
    path: Path
    manifest: dict

    @property
    def kind(self) -> str:
        return self.manifest["database"]["kind"]

    @property
    def database_member(self) -> str:
        return domain.DATABASE_MEMBERS[self.kind]

    @property
    def upload_members(self) -> list[str]:
        return sorted(name for name in self.manifest["members"] if name.startswith(domain.UPLOADS + "/"))


def _hash_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> domain.Member:
    digest = hashlib.sha256()
    size = 0
    handle = tar.extractfile(member)
    assert handle is not None
    for chunk in iter(lambda: handle.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    return domain.Member(digest.hexdigest(), size)


def open_archive(path: str | os.PathLike) -> Archive:
    """The archive, once every member has been checked against the manifest (BackupError listing
    every problem otherwise: nothing is restored from an archive that fails)."""
    path = Path(path)
    refused = f"{path}: refused, nothing was restored"
    try:
        tar = tarfile.open(path, mode="r:")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{refused}: not a readable backup archive ({error}).") from None
    with tar:
        try:
            members = tar.getmembers()
        except tarfile.TarError as error:
            raise BackupError(f"{refused}: the archive is damaged ({error}).") from None
        problems: list[str] = []
        seen: dict[str, tarfile.TarInfo] = {}
        for member in members:
            if member.name in seen:
                problems.append(f"{member.name}: appears twice")
            elif not member.isreg():
                problems.append(f"{member.name}: not a regular file")
            seen[member.name] = member
        if domain.MANIFEST not in seen:
            raise BackupError(f"{refused}: no manifest.json (not an archive made by 'flask backup').")
        try:
            manifest = json.loads(tar.extractfile(seen[domain.MANIFEST]).read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError, AttributeError):
            raise BackupError(f"{refused}: manifest.json is not valid JSON.") from None
        problems += domain.manifest_problems(manifest)
        if not problems:
            found = {
                name: _hash_member(tar, member)
                for name, member in seen.items()
                if name != domain.MANIFEST and member.isreg()
            }
            problems += domain.member_problems(manifest["members"], found)
    if problems:
        raise BackupError(refused + ":\n" + "\n".join(f"  - {problem}" for problem in problems))
    return Archive(path, manifest)


def _extract(archive: Archive, name: str, destination) -> None:
    """Copy one member into an open file, checking its checksum again (the archive may have
    changed since it was verified)."""
    expected = archive.manifest["members"][name]
    digest = hashlib.sha256()
    size = 0
    with tarfile.open(archive.path, mode="r:") as tar:
        handle = tar.extractfile(tar.getmember(name))
        assert handle is not None
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            destination.write(chunk)
    destination.flush()
    os.fsync(destination.fileno())
    if digest.hexdigest() != expected["sha256"] or size != expected["size"]:
        raise BackupError(f"{archive.path}: {name} changed while it was being restored; nothing was replaced.")


# --------------------------------------------------------------------------- restore


@dataclass
class RestoreResult:
    kind: str
    database: str
    counts: dict[str, int]
    revision: str | None
    code_head: str | None
    uploads: int
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_restorable(archive: Archive) -> Target:
    """The configured database, if the archive's kind of database can go into it."""
    place = target()
    problem = domain.kind_problem(archive.kind, place.kind)
    if problem:
        raise BackupError(problem)
    return place


def target_is_empty() -> tuple[bool, int]:
    """Whether the configured database holds no data (a missing SQLite file is empty), and how
    many rows it holds."""
    place = target()
    if place.kind == domain.SQLITE and not place.path.exists():
        return True, 0
    rows = data_rows(target_counts())
    return rows == 0, rows


def _release_connections() -> None:
    db.session.remove()
    db.engine.dispose()


def _quiesce_sqlite(path: Path) -> None:
    """Fold the old database's WAL into it, and make sure no one else has it open: SQLite deletes
    the WAL when its last connection closes, so a WAL still there afterwards belongs to a running
    app (whose next write would land in the replaced file's WAL and corrupt the new one)."""
    if not path.exists():
        return
    connection = sqlite3.connect(path, timeout=5)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    if busy or Path(f"{path}-wal").exists():
        raise BackupError(
            f"{path} is in use (the app or another program has it open): stop the app, then restore again. "
            "Nothing was replaced."
        )


def _restore_sqlite(archive: Archive, place: Target) -> None:
    path = place.path
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    _release_connections()
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.restoring-")  # mode 0600
    temporary = Path(temporary)
    try:
        with os.fdopen(fd, "wb") as out:
            _extract(archive, archive.database_member, out)
        check = sqlite3.connect(temporary)
        try:
            verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            check.close()
        if verdict != "ok":
            raise BackupError(f"The archive's database fails SQLite's integrity check ({verdict}); nothing was replaced.")
        _quiesce_sqlite(path)
        Path(f"{path}-shm").unlink(missing_ok=True)
        os.replace(temporary, path)
        _fsync_directory(path.parent)
    finally:
        temporary.unlink(missing_ok=True)
    _release_connections()


def _restore_postgresql(archive: Archive, place: Target) -> list[str]:
    with db.engine.connect() as probe:
        major, _ = _server_major(probe)
    _release_connections()
    # pg_restore reads the dumps of its own major version and older ones.
    dumped_with = archive.manifest["database"].get("tool_major")
    wanted = max(major, dumped_with if isinstance(dumped_with, int) else 0)
    tool, _ = find_pg_tool("pg_restore", wanted, current_app.config.get("PG_BIN_DIR"))
    env, unknown = _libpq_env(place.url)
    with tempfile.TemporaryDirectory(dir=archive.path.parent, prefix=".forum-restore-") as work:  # mode 0700
        dump = Path(work) / archive.database_member
        with dump.open("wb") as out:
            _extract(archive, archive.database_member, out)
        # One transaction: a failure leaves the database as it was.
        _run(
            [tool, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", "--no-password",
             f"--dbname={place.url.database}", str(dump)],
            env,
            "pg_restore",
        )
    _release_connections()
    return [f"ignored in the database URL (not a libpq parameter): {key}" for key in unknown]


def _stage_uploads(archive: Archive) -> Path:
    """The archive's photos written into a hidden folder inside the photos folder (the same file
    system, even when the folder is a mount point), ready to be swapped in."""
    root = upload_root()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".restoring-"))
    try:
        for name in archive.upload_members:
            destination = staging.joinpath(*name.split("/")[1:])
            destination.parent.mkdir(parents=True, exist_ok=True)
            with destination.open("wb") as out:
                _extract(archive, name, out)
            destination.chmod(0o600)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _swap_uploads(staging: Path) -> None:
    """Replace the photos folder's content with the staged one (renames only), then delete the old."""
    root = staging.parent
    old = Path(tempfile.mkdtemp(dir=root, prefix=".replaced-"))
    for entry in list(root.iterdir()):
        if entry not in (staging, old) and not entry.name.startswith((".restoring-", ".replaced-")):
            os.rename(entry, old / entry.name)
    for entry in list(staging.iterdir()):
        os.rename(entry, root / entry.name)
    staging.rmdir()
    shutil.rmtree(old)


def restore(archive: Archive) -> RestoreResult:
    """Replace the configured database and the photos with the archive's, then check the result
    against the manifest. The caller has checked the archive (`open_archive`) and asked before
    replacing a database that holds data (`target_is_empty`)."""
    place = check_restorable(archive)
    warnings: list[str] = []
    staging = _stage_uploads(archive)  # every file written before anything is replaced
    try:
        if place.kind == domain.SQLITE:
            _restore_sqlite(archive, place)
        else:
            warnings += _restore_postgresql(archive, place)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_uploads(staging)
    uploads = len(archive.upload_members)
    with db.engine.connect() as connection:
        counts = table_counts(connection)
        found = revision(connection, counts)
    expected = archive.manifest["counts"]
    problems = domain.count_problems(expected, counts)
    stray = sorted(set(counts) - set(expected))
    if stray:
        warnings.append(
            "Tables that are not in the archive were left as they were (made by a newer release?): " + ", ".join(stray)
        )
    wanted_revision = archive.manifest["migration"].get("database")
    if found != wanted_revision:
        problems.append(f"migration revision {found}, the manifest says {wanted_revision}")
    head = code_head()
    if found != head:
        warnings.append(
            f"The restored database is at migration {found} and this code expects {head}: run 'flask db upgrade'."
        )
    return RestoreResult(
        kind=place.kind,
        database=place.shown,
        counts={table: counts.get(table, 0) for table in expected},
        revision=found,
        code_head=head,
        uploads=uploads,
        problems=problems,
        warnings=warnings,
    )
