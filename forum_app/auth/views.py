"""Staff login and logout."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    return "login"
