"""Attendee pages: register, and the attendee's own space behind their private link."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registration", __name__)
