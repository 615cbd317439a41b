"""Organiser screens for registrations, delegations and exports (they call registration services)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin_registrations", __name__, url_prefix="/e/<slug>/admin")
