"""forum_app: the event-day companion for public-policy forums."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from forum_app.db import configure_sqlite

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | type | None = None) -> Flask:
    """Application factory. `config` (a class or a mapping) overrides everything else."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from forum_app.config import Config

    app.config.from_object(Config)
    app.config.update(Config.from_env())
    if isinstance(config, type):
        app.config.from_object(config)
    elif config:
        app.config.update(config)

    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "forum.db")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    from forum_app import cli, errors, extensions, health, i18n, mail, models, security, web  # noqa: F401 (models: full metadata)
    from forum_app.admin.rapporteurs import bp as admin_rapporteurs_bp
    from forum_app.admin.registrations import bp as admin_registrations_bp
    from forum_app.admin.views import bp as admin_bp
    from forum_app.api.views import bp as api_bp
    from forum_app.audit.views import bp as audit_bp  # the organisers' "Journal des actions"
    from forum_app.auth.views import bp as auth_bp
    from forum_app.badges.views import bp as badges_bp
    from forum_app.checkin.admin_views import bp as checkin_admin_bp
    from forum_app.checkin.views import bp as checkin_bp
    from forum_app.devices.views import bp as devices_bp  # door devices' bearer tokens
    from forum_app.notes.admin_views import bp as notes_admin_bp
    from forum_app.notes.photo_views import bp as notes_photos_bp  # rapporteurs' photos
    from forum_app.notes.views import bp as notes_bp  # the rapporteur's capture page
    from forum_app.programme.views import bp as programme_bp
    from forum_app.registration.views import bp as registration_bp
    from forum_app.report import cli as report_cli
    from forum_app.report.admin_views import bp as report_admin_bp  # the organisers' report editor
    from forum_app.report.approval_views import bp as report_quotes_bp  # quote consent, rapporteurs' review
    from forum_app.report.views import bp as report_bp  # the published report

    extensions.db.init_app(app)
    with app.app_context():
        configure_sqlite(extensions.db.engine)
    extensions.migrate.init_app(app, extensions.db, directory=str(ROOT / "migrations"), render_as_batch=True)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    i18n.init_app(app)
    mail.init_app(app)
    security.init_app(app)
    web.init_app(app)
    health.init_app(app)  # GET /healthz
    errors.init_app(app)
    cli.init_app(app)
    report_cli.init_app(app)

    for blueprint in (
        programme_bp, auth_bp, admin_bp, registration_bp, badges_bp, admin_registrations_bp, admin_rapporteurs_bp,
        api_bp, checkin_admin_bp, checkin_bp, notes_admin_bp, notes_bp, notes_photos_bp,
        report_bp, report_admin_bp, report_quotes_bp, audit_bp, devices_bp,
    ):
        app.register_blueprint(blueprint)
    return app


def _instance_secret(instance: Path) -> str:
    """A random key kept in instance/, so sessions survive restarts without configuration."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
