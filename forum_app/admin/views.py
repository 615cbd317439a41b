"""Organiser screens: they call other features' services and hold no rules of their own."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/e/<slug>/admin")
