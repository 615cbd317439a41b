"""HTTP plumbing shared by the public pages: gzip for text responses, conditional GETs."""
from __future__ import annotations

import gzip
import hashlib

from flask import Flask, Response, request

COMPRESSIBLE = ("text/", "application/json", "application/xml", "application/javascript", "image/svg+xml", "text/calendar")
MIN_COMPRESS_BYTES = 1024


def etag_for(*parts: object) -> str:
    """A weak-enough validator built from whatever the page depends on (versions, language)."""
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:20]


def init_app(app: Flask) -> None:
    @app.after_request
    def compress(response: Response) -> Response:
        # gunicorn serves us directly in small deployments; phones on venue Wi-Fi need gzip.
        if (
            response.direct_passthrough
            or response.status_code < 200
            or response.status_code >= 300
            or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or not (response.mimetype or "").startswith(COMPRESSIBLE)
        ):
            return response
        data = response.get_data()
        if len(data) < MIN_COMPRESS_BYTES:
            return response
        response.set_data(gzip.compress(data, compresslevel=6))
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        etag, weak = response.get_etag()
        if etag and not weak:
            # The bytes differ from the uncompressed body, so only a weak validator stays true.
            response.set_etag(etag, weak=True)
        return response
