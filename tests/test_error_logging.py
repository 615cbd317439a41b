"""An unexpected error is logged with the route's pattern, never the path (paths can hold secrets)."""
from __future__ import annotations

import logging

from forum_app import create_app
from forum_app.config import TestConfig


def test_unhandled_error_logs_the_route_pattern_not_the_secret_in_the_path(caplog):
    app = create_app(TestConfig)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/e/<slug>/secret/<token>")
    def explode(slug, token):
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/e/forum/secret/TOKEN-s3cr3t-value")

    assert response.status_code == 500
    assert "/e/<slug>/secret/<token>" in caplog.text
    assert "TOKEN-s3cr3t-value" not in caplog.text
