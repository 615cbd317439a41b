"""`flask backup`, `flask restore ARCHIVE`, `flask purge-personal-data SLUG` (wired by forum_app/cli.py)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from forum_app.errors import DomainError
from forum_app.maintenance import domain


@click.command("backup")
@with_appcontext
@click.option("--output", "output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the archive (default: instance/backups/).")
def backup_command(output: Path | None) -> None:
    """Archive the database and the uploaded photos (one .tar with a manifest), while the app runs."""
    from forum_app.maintenance import backup

    try:
        result = backup.create_backup(output)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    except OperationalError as error:
        raise click.ClickException(f"Cannot read the database: {error.orig}") from None
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    manifest = result.manifest
    rows = backup.data_rows(manifest["counts"])
    click.echo(
        f"{result.path} ({domain.human_size(result.size)}): {domain.KIND_NAMES[manifest['database']['kind']]} database, "
        f"{rows} rows in {len(manifest['counts'])} tables, migration {manifest['migration']['database']}, "
        f"{manifest['uploads']['files']} uploaded files"
    )


@click.command("restore")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a database that holds data without asking.")
def restore_command(archive: Path, yes: bool) -> None:
    """Replace the database and the uploaded photos with ARCHIVE's. Stop the app first."""
    from forum_app.maintenance import backup

    try:
        opened = backup.open_archive(archive)  # every checksum first
        place = backup.check_restorable(opened)  # the same kind of database
        empty, rows = backup.target_is_empty()
    except DomainError as error:
        raise click.ClickException(error.message) from None
    except OperationalError as error:
        raise click.ClickException(f"Cannot reach the database to restore into: {error.orig}") from None
    if not empty and not yes:
        question = f"{place.shown} holds {rows} rows: replace them with the archive's ({opened.manifest['created_at']})?"
        try:
            replace = click.confirm(question, default=False)
        except click.Abort:  # no answer (not a terminal)
            replace = False
        if not replace:
            raise click.ClickException(f"Nothing restored: {place.shown} holds {rows} rows (add --yes to replace them).")
    try:
        result = backup.restore(opened)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(
        f"Restored {archive.name} (made {opened.manifest['created_at']}) into {result.database}: "
        f"{backup.data_rows(result.counts)} rows in {len(result.counts)} tables, migration {result.revision}, "
        f"{result.uploads} uploaded files"
    )
    if result.problems:
        raise click.ClickException(
            "The restored database differs from the manifest:\n" + "\n".join(f"  - {p}" for p in result.problems)
        )
    click.echo("Check passed: migration and row counts match the manifest.")


@click.command("purge-personal-data")
@with_appcontext
@click.argument("slug")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Retention after the event's last day (default: PERSONAL_DATA_RETENTION_DAYS, 365).")
@click.option("--dry-run", is_flag=True, help="Count what would be erased; change nothing.")
@click.option("--yes", is_flag=True, help="Confirm a shorter retention than configured (--days 0: at once).")
def purge_command(slug: str, days: int | None, dry_run: bool, yes: bool) -> None:
    """Erase the personal data of event SLUG once its retention period is over; figures stay."""
    from forum_app.maintenance import purge

    try:
        event = purge.event_by_slug(slug)
        result = purge.purge_event(event, days=days, confirmed=yes, dry_run=dry_run)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    echo_result(result)


def echo_result(result) -> None:
    if result.warning:
        click.echo(f"Warning: {result.warning}", err=True)
    if result.dry_run:
        click.echo(f"{result.slug}: dry run, nothing changed; the purge would erase the personal data of")
    else:
        click.echo(f"{result.slug}: personal data erased from")
    for table, count in result.erased.items():
        click.echo(f"  {table}: {count} rows")
    click.echo(f"  mail outbox: {result.outbox_files} messages ({result.outbox_note})")
    if result.total == 0:
        click.echo("  nothing left to erase")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(purge_command)
