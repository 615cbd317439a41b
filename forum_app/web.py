"""HTTP plumbing shared by every page: gzip for text responses, conditional GETs, static files
under a release digest, and one log line per request.

Static files (`asset_url()` in templates):
- `/static/r/<digest>/<path>` — what pages load. `<digest>` names the release: a hash of every
  file under static/, computed once at start-up (again on each request in debug, so edits show).
  ES modules import each other by relative paths (static/js/checkin/*, static/js/notes/*), which a
  digest *segment* keeps intact where per-file hashes in names would break them; and a module
  loaded under two URLs would run twice. Served with `Cache-Control: public, max-age=31536000,
  immutable`. A digest of another release (a page cached before a deploy, a worker of the other
  release during a reload) still gets the current file, for 60 s only.
- `/static/<path>` — what must keep one URL (the web app manifest and its icon; `/sw.js` is served
  from the root by the programme blueprint): an hour, `no-cache` for the service worker.
Text files (CSS, JavaScript, SVG, JSON, WebAssembly) are sent gzipped when the browser accepts it,
compressed once per process (level 9) and kept in memory, keyed by the file's mtime and size.
"""
from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
import os
import stat
import time
from pathlib import Path

from flask import (
    Flask,
    Request,
    Response,
    abort,
    current_app,
    g,
    request,
    request_finished,
    request_started,
    send_file,
    url_for,
)
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter, UnicodeConverter
from werkzeug.security import safe_join

from forum_app.db import MAX_ID

COMPRESSIBLE = ("text/", "application/json", "application/xml", "application/javascript", "image/svg+xml", "text/calendar")
MIN_COMPRESS_BYTES = 1024


def etag_for(*parts: object) -> str:
    """A weak-enough validator built from whatever the page depends on (versions, language)."""
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:20]


class _NamedPartsParser(FormDataParser):
    """Multipart parts without a name are dropped (no browser sends one): werkzeug files them under
    the key None, and Flask-WTF's CSRF check, which reads every form key as text, then failed with
    a 500 on any POST of the site (found by tests/test_api_fuzz.py)."""

    def _parse_multipart(self, stream, mimetype, content_length, options):
        stream, form, files = super()._parse_multipart(stream, mimetype, content_length, options)
        if None in form:
            form = self.cls((key, value) for key, value in form.items(multi=True) if key is not None)
        if None in files:
            files = self.cls((key, value) for key, value in files.items(multi=True) if key is not None)
        return stream, form, files


class ForumRequest(Request):
    form_data_parser_class = _NamedPartsParser


class _IdConverter(IntegerConverter):
    """`<int:...>` in routes names a row: 0 to MAX_ID. A bigger number is no route (404), never a
    query PostgreSQL refuses (a 500; SQLite overflows past 2**63)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


class _TextConverter(UnicodeConverter):
    """`<slug>`, `<code>`, `<token>`...: never the NUL character (a %00 in the URL), which no slug
    or code holds and PostgreSQL refuses in a query (a 500)."""

    def __init__(self, map, minlength: int = 1, maxlength: int | None = None, length: int | None = None) -> None:
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]", 1)


def init_app(app: Flask) -> None:
    app.request_class = ForumRequest
    # Before any blueprint adds its routes (a rule takes its converters when added).
    app.url_map.converters.update(int=_IdConverter, default=_TextConverter, string=_TextConverter)
    _init_request_log(app)

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

    _init_static(app)


# --- Static files: release digest, cache lifetimes, gzip kept in memory ---

IMMUTABLE = "public, max-age=31536000, immutable"
OTHER_RELEASE = "public, max-age=60"  # a digest that is not this release's: the current file, briefly
FIXED_URL = "public, max-age=3600"  # /static/<path>: the manifest, its icon
NO_CACHE_FILES = frozenset({"js/sw.js"})  # a service worker must be checked on every visit
STATIC_COMPRESSIBLE = COMPRESSIBLE + ("application/wasm", "application/manifest+json")
GZIP_MAX_BYTES = 8 * 1024 * 1024
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")  # whatever /etc/mime.types says (RFC 9239)


def _init_static(app: Flask) -> None:
    folder = Path(app.static_folder or "")
    app.extensions["forum_static_digest"] = release_digest(folder)
    app.add_template_global(asset_url)
    # Flask's own /static/<path:filename> rule stays (url_for('static', ...) keeps working); its view
    # becomes ours, for the cache lifetimes and gzip. The release rule is more specific: it wins.
    app.view_functions["static"] = plain_static
    app.add_url_rule(f"{app.static_url_path}/r/<digest>/<path:filename>", "static_release", release_static)
    request_finished.connect(_static_files_vary_on_encoding_only, app)


def static_digest() -> str:
    """This release's digest (debug: recomputed once a request, so edited files get new URLs)."""
    app = current_app
    if app.debug:
        known = g.get("_forum_static_digest")
        if known is None:
            known = g._forum_static_digest = release_digest(Path(app.static_folder or ""))
        app.extensions["forum_static_digest"] = known
    return app.extensions["forum_static_digest"]


def asset_url(filename: str) -> str:
    """URL of a file under static/ that browsers may keep for a year: /static/r/<release>/<filename>."""
    return url_for("static_release", digest=static_digest(), filename=filename)


_digests: dict[str, tuple[tuple, str]] = {}  # folder -> (files' names, sizes and mtimes, digest)


def release_digest(folder: Path) -> str:
    """A hash of the name and content of every file under `folder` (12 hex digits).

    Files are read again only when a name, size or mtime changed (tests build hundreds of apps)."""
    signature = []
    for directory, subdirectories, names in os.walk(folder):
        subdirectories.sort()
        for name in sorted(names):
            path = os.path.join(directory, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            signature.append((os.path.relpath(path, folder), info.st_size, info.st_mtime_ns))
    signature_key = tuple(signature)
    known = _digests.get(str(folder))
    if known is not None and known[0] == signature_key:
        return known[1]
    digest = hashlib.sha256()
    for relative, size, _mtime in signature:
        try:
            content = Path(folder, relative).read_bytes()
        except OSError:
            content = b""
        digest.update(f"{relative}\0{len(content)}\0".encode())
        digest.update(content)
    value = digest.hexdigest()[:12]
    _digests[str(folder)] = (signature_key, value)
    return value


STATIC_ENDPOINTS = frozenset({"static", "static_release", "programme.service_worker", "programme.favicon"})


def _static_files_vary_on_encoding_only(sender: Flask, response: Response, **_extra) -> None:
    """Flask-Login looks into the session on every request, so Flask adds `Vary: Cookie`: a shared
    cache (a CDN, nginx's proxy_cache) would then keep one copy per visitor. A file is the same
    for everyone (runs after the session is saved: request_finished)."""
    if request.endpoint in STATIC_ENDPOINTS and "Set-Cookie" not in response.headers:
        kept = [name for name in response.vary if name.lower() != "cookie"]
        if kept:
            response.headers["Vary"] = ", ".join(kept)
        else:
            response.headers.pop("Vary", None)


def plain_static(filename: str) -> Response:
    return send_static(filename, "no-cache" if filename in NO_CACHE_FILES else FIXED_URL)


def release_static(digest: str, filename: str) -> Response:
    return send_static(filename, IMMUTABLE if digest == static_digest() else OTHER_RELEASE)


_gzipped: dict[str, tuple[int, int, str, bytes | None]] = {}  # path -> (mtime_ns, size, etag, gzip or None)


def _validator_and_gzip(path: str, info: os.stat_result) -> tuple[str, bytes | None]:
    """The file's content hash and its gzip bytes (None when gzip does not make it smaller)."""
    known = _gzipped.get(path)
    if known is not None and known[0] == info.st_mtime_ns and known[1] == info.st_size:
        return known[2], known[3]
    data = Path(path).read_bytes()
    etag = hashlib.sha1(data).hexdigest()[:20]
    packed: bytes | None = gzip.compress(data, compresslevel=9, mtime=0)
    if len(packed) >= len(data):
        packed = None
    _gzipped[path] = (info.st_mtime_ns, info.st_size, etag, packed)
    return etag, packed


def send_static(filename: str, cache_control: str) -> Response:
    """A file under static/ (never outside it: safe_join refuses `..` and absolute paths)."""
    folder = current_app.static_folder or ""
    path = safe_join(folder, filename) if "\x00" not in filename else None
    if path is None:
        abort(404)
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        abort(404)
    if not stat.S_ISREG(info.st_mode):
        abort(404)
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    compressible = mimetype.startswith(STATIC_COMPRESSIBLE) and info.st_size <= GZIP_MAX_BYTES
    if compressible:
        etag, packed = _validator_and_gzip(path, info)
        if packed is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
            response = current_app.response_class(packed, mimetype=mimetype)
            response.headers["Content-Encoding"] = "gzip"
            response.set_etag(etag + "-gz")
            response.last_modified = info.st_mtime
            response.make_conditional(request)
        else:
            response = send_file(path, mimetype=mimetype, etag=etag, last_modified=info.st_mtime, max_age=None)
            response.make_conditional(request, accept_ranges=True)
        response.vary.add("Accept-Encoding")
    else:
        response = send_file(path, mimetype=mimetype, last_modified=info.st_mtime, max_age=None)
        response.make_conditional(request, accept_ranges=True)
    response.headers["Cache-Control"] = cache_control
    response.headers.pop("Expires", None)
    return response


def precompress_static(app: Flask) -> int:
    """Gzip every text file under static/ now (gunicorn's master, before forking: workers share it)."""
    folder = Path(app.static_folder or "")
    count = 0
    for path in sorted(folder.rglob("*")):
        mimetype = mimetypes.guess_type(path.name)[0] or ""
        if path.is_file() and mimetype.startswith(STATIC_COMPRESSIBLE):
            info = path.stat()
            if info.st_size <= GZIP_MAX_BYTES:
                _validator_and_gzip(str(path), info)
                count += 1
    return count


# --- One log line per request ---

REQUEST_LOG = logging.getLogger("forum_app.requests")
QUIET_ENDPOINTS = frozenset({"healthz"})  # polled every few seconds: at DEBUG when they succeed
_STARTED = "forum_app.request_started"
ROUTE_ENVIRON_KEY = "forum_app.route"  # for a server's access log (gunicorn: %({forum_app.route}e)s)


def _init_request_log(app: Flask) -> None:
    """`method=GET route=/e/<slug>/me/<token> status=200 duration_ms=3.2 bytes=2048` on the
    "forum_app.requests" logger: the route's PATTERN, never the path or the query string (an
    attendee's magic link, a quote link, a search are in them). 5xx at WARNING, health checks
    that succeed at DEBUG, the rest at INFO; REQUEST_LOG_LEVEL sets the logger's level."""
    REQUEST_LOG.setLevel(str(app.config.get("REQUEST_LOG_LEVEL") or "INFO").upper())
    app.logger  # noqa: B018 - Flask gives its logger a handler when logging is not configured
    # Signals, not request hooks: the start comes before every before_request function, the end
    # after every after_request one (the size logged is the size sent, gzip included).
    request_started.connect(_request_started, app)
    request_finished.connect(_request_finished, app)


def _request_started(sender: Flask, **_extra) -> None:
    request.environ[_STARTED] = time.perf_counter()


def _request_finished(sender: Flask, response: Response, **_extra) -> None:
    started = request.environ.get(_STARTED)
    duration_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    route = request.url_rule.rule if request.url_rule is not None else "(no route)"
    request.environ[ROUTE_ENVIRON_KEY] = route
    status = response.status_code
    if status >= 500:
        level = logging.WARNING
    elif request.endpoint in QUIET_ENDPOINTS and status < 400:
        level = logging.DEBUG
    else:
        level = logging.INFO
    if not REQUEST_LOG.isEnabledFor(level):
        return
    size = response.content_length
    REQUEST_LOG.log(
        level,
        "method=%s route=%s status=%d duration_ms=%.1f bytes=%s",
        request.method, route, status, duration_ms, "-" if size is None else size,
        extra={"http_method": request.method, "route": route, "status": status,
               "duration_ms": round(duration_ms, 1), "response_bytes": size},
    )
