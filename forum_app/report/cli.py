"""`flask report build <slug> --format pdf|docx|md|html --output FILE [--published]`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from forum_app.errors import DomainError

report_cli = AppGroup("report", help="The post-event report.")


@report_cli.command("build")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["pdf", "docx", "md", "html"]), required=True)
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write ('-' for standard output).")
@click.option("--published", is_flag=True, help="The published version instead of the current draft.")
def build(slug: str, fmt: str, output: Path, published: bool) -> None:
    """Build the report of event SLUG: the current draft, or the published version."""
    from forum_app.report import outputs, services

    try:
        event = services.event_by_slug(slug)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    if published:
        document = services.published_document(event)
        if document is None:
            raise click.ClickException(f"The report of {slug} is not published.")
    else:
        document = services.draft_document(event)
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    if published:
        def photo_url(name: str) -> str:
            return f"{base}/e/{slug}/report/photos/{name}"
    else:
        resolve = services.photo_resolver(event)

        def photo_url(name: str) -> str:
            path = resolve(name)
            return path.resolve().as_uri() if path else name

    result = outputs.build(
        document, fmt, photo_url=photo_url, photo_path=services.photo_resolver(event), standalone=(fmt == "html")
    )
    if str(output) == "-":
        click.get_binary_stream("stdout").write(result.data)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(result.data)
    label = "published version " + str(document.number) if published else "draft"
    click.echo(f"{output}: {fmt}, {len(result.data):,} bytes ({label}, {len(document.sections)} sections)", err=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(report_cli)
