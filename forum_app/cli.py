"""Command-line tools: `flask demo load`, `flask users create`, `flask programme import`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from forum_app.errors import DomainError

demo_cli = AppGroup("demo", help="Demo forum.")
users_cli = AppGroup("users", help="Staff accounts.")
programme_cli = AppGroup("programme", help="Programme import and export.")
registrations_cli = AppGroup("registrations", help="Attendees' registrations.")

DEMO_ORGANISER_EMAIL = "organisatrice@citescap.example"
DEMO_ORGANISER_PASSWORD = "citescap-demo-2019"


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no event yet.")
def demo_load(if_empty: bool) -> None:
    """Build the demo forum (Cités Cap 2019) and its organiser account."""
    from forum_app.auth import services as auth_services
    from forum_app.programme import imports, services

    if if_empty and services.published_events():
        click.echo("Database already holds an event: demo not loaded.")
        return
    path = Path(current_app.config["DEMO_DATA"])
    result = imports.import_schedule_file(path)
    auth_services.ensure_user(
        DEMO_ORGANISER_EMAIL, DEMO_ORGANISER_PASSWORD, name="Organisatrice démo", event=result.event, role="organiser"
    )
    click.echo(f"Demo forum loaded: /e/{result.event.slug}/ ({result.summary()})")
    _load_demo_delegation(result.event)
    _load_demo_notes(result.event)
    _load_demo_report(result.event)
    click.echo(f"Demo organiser: {DEMO_ORGANISER_EMAIL} / {DEMO_ORGANISER_PASSWORD}")


def _load_demo_delegation(event) -> None:
    """The Hauts-de-France delegation, so the demo has people, seats and badges to show."""
    from forum_app.extensions import db
    from forum_app.registration import delegation_import_service
    from forum_app.registration.models import Registration

    if db.session.scalar(db.select(Registration.id).filter_by(event_id=event.id).limit(1)) is not None:
        return
    path = Path(current_app.config["DEMO_DELEGATION"])
    imported = delegation_import_service.import_file(event, path.read_bytes(), notify=False)
    click.echo(f"Demo delegation imported: {len(imported.registrations)} people")


def _load_demo_notes(event) -> None:
    """The rapporteurs' notes of the demo sessions (loading again adds nothing)."""
    from forum_app.notes import demo

    created = demo.load_demo_notes(event)
    click.echo(f"Demo notes loaded: {created} new items ({len(demo.read_items())} in the demo set)")
    click.echo(f"Demo rapporteur: {demo.DEMO_RAPPORTEUR_EMAIL} / {demo.DEMO_RAPPORTEUR_PASSWORD}")


def _load_demo_report(event) -> None:
    """The report of the demo forum, published (loading again adds nothing, never republishes)."""
    from forum_app.report import demo

    loaded = demo.load_demo_report(event)
    click.echo(f"Demo report: {loaded.summary()} (/e/{event.slug}/report)")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", default="")
@click.option("--event", "event_slug", help="Event slug for the role.")
@click.option("--role", type=click.Choice(["organiser", "volunteer", "rapporteur"]), default=None)
@click.option("--admin", is_flag=True, help="Site administrator (creates events).")
@click.password_option(help="Prompted when not given.")
def users_create(email: str, name: str, event_slug: str | None, role: str | None, admin: bool, password: str) -> None:
    """Create a staff account (or update its password and role)."""
    from forum_app.auth import services as auth_services
    from forum_app.programme import services

    try:
        event = services.get_event(event_slug) if event_slug else None
        if role and event is None:
            raise click.UsageError("--role needs --event")
        user = auth_services.ensure_user(email, password, name=name, event=event, role=role, is_admin=admin, audited=True)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"User {user.email} ready" + (f", {role} at {event.slug}" if role else "") + (" (admin)" if admin else ""))


@users_cli.command("unlock")
@click.argument("email")
def users_unlock(email: str) -> None:
    """Lift the login lock of an address (too many failed passwords) and forget its failures."""
    from forum_app.auth import services as auth_services

    if auth_services.unlock_login(email):
        click.echo(f"{auth_services.normalise_email(email)}: login unlocked, failed attempts forgotten")
    else:
        click.echo(f"{auth_services.normalise_email(email)}: no failed attempt recorded, nothing to unlock")


@programme_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--event", "event_slug", help="Import into this event (default: the file's acronym).")
def programme_import(path: Path, event_slug: str | None) -> None:
    """Import a c3voc/frab schedule (JSON or XML). Importing again updates in place."""
    from forum_app.programme import imports

    try:
        result = imports.import_schedule_file(path, event_slug=event_slug)
    except DomainError as error:
        problems = getattr(error, "problems", [])
        raise click.ClickException("\n".join([error.message, *problems])) from error
    click.echo(f"Imported into /e/{result.event.slug}/: {result.summary()}")


@registrations_cli.command("erase-expired")
def registrations_erase_expired() -> None:
    """Erase personal data whose retention period is over (run it daily, e.g. from cron)."""
    from forum_app import clock
    from forum_app.maintenance import cli as maintenance_cli
    from forum_app.maintenance import purge

    # The whole purge of `flask purge-personal-data`, for every event past the privacy notice's date.
    results = [result for result in purge.purge_expired(clock.now().date()).values() if result.total]
    if not results:
        click.echo("Nothing to erase.")
    for result in results:
        maintenance_cli.echo_result(result)


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(programme_cli)
    app.cli.add_command(registrations_cli)
    from forum_app.maintenance import cli as maintenance_cli  # flask backup, restore, purge-personal-data

    maintenance_cli.init_app(app)
