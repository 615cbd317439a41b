"""Outgoing email: written as .eml files under instance/outbox/ by default, SMTP when configured."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    app.config.setdefault("MAIL_BACKEND", "outbox")
