"""Outgoing email: written as .eml files under instance/outbox/ by default, SMTP when configured.

`send(message)` takes an `email.message.EmailMessage` and hands it to the backend named by
`MAIL_BACKEND`:

- "outbox" (default): one file `<MAIL_OUTBOX_DIR>/<UTC timestamp>-<uuid>.eml` per message
  (`MAIL_OUTBOX_DIR` defaults to `instance/outbox`); works with no mail server at all;
- "smtp": `MAIL_SERVER`, `MAIL_PORT`, `MAIL_USE_TLS` (STARTTLS), `MAIL_USE_SSL`,
  `MAIL_USERNAME`, `MAIL_PASSWORD`, `MAIL_TIMEOUT`;
- "memory": kept in the list `app.extensions["mail_outbox"]` (tests).

`defer(fn, *args)` runs the composing and sending of a message after the caller is done:
with `MAIL_ASYNC` (the default except under TESTING) on one background thread per process,
inside an app context, so a registration POST does not wait for its badge PDF to be drawn;
otherwise at once. The background thread is polite: it starts a job once the process has
served no request for `MAIL_QUIET_MS` (a burst of sign-ups keeps the CPU), and never holds
a message back longer than `MAIL_MAX_DELAY` seconds. `flush()` waits until the queue is empty
(tests, benchmarks, shutdown: an exiting process drains it first).

`MAIL_DEFAULT_SENDER` fills a missing From. A failure is logged and `send` returns False:
mail goes out after the data is committed, and a mail server being down never loses a
registration.
"""
from __future__ import annotations

import atexit
import os
import queue
import smtplib
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from flask import Flask, current_app

BACKENDS = ("outbox", "smtp", "memory")
DEFAULT_SENDER = "Forum <ne-pas-repondre@localhost>"


class MailError(Exception):
    """The message could not be handed to the backend."""


def init_app(app: Flask) -> None:
    app.config.setdefault("MAIL_BACKEND", "outbox")
    app.config.setdefault("MAIL_OUTBOX_DIR", None)  # None: <instance>/outbox
    app.config.setdefault("MAIL_SERVER", "localhost")
    app.config.setdefault("MAIL_PORT", 25)
    app.config.setdefault("MAIL_USE_TLS", False)
    app.config.setdefault("MAIL_USE_SSL", False)
    app.config.setdefault("MAIL_USERNAME", None)
    app.config.setdefault("MAIL_PASSWORD", None)
    app.config.setdefault("MAIL_TIMEOUT", 10)
    app.config.setdefault("MAIL_DEFAULT_SENDER", DEFAULT_SENDER)
    app.config.setdefault("MAIL_ASYNC", not app.testing)
    app.config.setdefault("MAIL_QUIET_MS", 100)
    app.config.setdefault("MAIL_MAX_DELAY", 30)
    app.extensions.setdefault("mail_outbox", [])
    activity = app.extensions.setdefault("mail_activity", _Activity())
    app.before_request(activity.started)
    app.teardown_request(activity.ended)
    if app.config["MAIL_BACKEND"] not in BACKENDS:
        raise ValueError(f"MAIL_BACKEND must be one of {', '.join(BACKENDS)}, not {app.config['MAIL_BACKEND']!r}")


def outbox_dir(app: Flask | None = None) -> Path:
    app = app or current_app
    configured = app.config.get("MAIL_OUTBOX_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "outbox"


def memory_outbox(app: Flask | None = None) -> list[EmailMessage]:
    """The messages the "memory" backend kept, oldest first."""
    return (app or current_app).extensions.setdefault("mail_outbox", [])


def default_sender(app: Flask | None = None) -> str:
    return (app or current_app).config.get("MAIL_DEFAULT_SENDER") or DEFAULT_SENDER


def _complete(message: EmailMessage) -> EmailMessage:
    if not message["From"]:
        message["From"] = default_sender()
    if not message["Date"]:
        message["Date"] = format_datetime(datetime.now(UTC))
    if not message["Message-ID"]:
        domain = parseaddr(str(message["From"]))[1].rpartition("@")[2] or "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
    return message


ADDRESS_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc", "Bcc")


def needs_smtputf8(message: EmailMessage) -> bool:
    """True when an address has a non-ASCII local part (RFC 6531: only UTF-8 headers can carry it)."""
    for name in ADDRESS_HEADERS:
        for header in message.get_all(name, []):
            for address in getattr(header, "addresses", ()):
                if not address.addr_spec.isascii():
                    return True
    return False


def _as_bytes(message: EmailMessage) -> bytes:
    """RFC 5322 bytes with CRLF line ends; UTF-8 headers only when an address needs them."""
    return message.as_bytes(policy=policy.SMTPUTF8 if needs_smtputf8(message) else policy.SMTP)


def _write_outbox(message: EmailMessage) -> Path:
    directory = outbox_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"{stamp}-{uuid.uuid4().hex}.eml"
    temporary = path.with_suffix(".eml.part")
    temporary.write_bytes(_as_bytes(message))
    os.replace(temporary, path)  # readers of the outbox never see half a message
    return path


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), float(config["MAIL_TIMEOUT"])
    context = ssl.create_default_context()
    if config.get("MAIL_USE_SSL"):
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            client.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            client.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        client.send_message(message)


def deliver(message: EmailMessage) -> None:
    """Hand the message to the configured backend; raises MailError on failure."""
    _complete(message)
    backend = current_app.config.get("MAIL_BACKEND", "outbox")
    try:
        if backend == "memory":
            memory_outbox().append(message)
        elif backend == "smtp":
            _send_smtp(message)
        elif backend == "outbox":
            _write_outbox(message)
        else:
            raise MailError(f"unknown MAIL_BACKEND {backend!r}")
    except MailError:
        raise
    except (OSError, smtplib.SMTPException, UnicodeError, ValueError) as error:
        raise MailError(f"{backend}: {error}") from error


def send(message: EmailMessage) -> bool:
    """Send one message; False (and a log line) when it could not be sent. Never raises."""
    try:
        deliver(message)
    except Exception:  # whatever went wrong, what the message is about is already committed
        current_app.logger.exception(
            "Mail not sent: %r to %r", str(message.get("Subject", "")), str(message.get("To", ""))
        )
        return False
    return True


# --------------------------------------------------------------------------- background sending


class _Activity:
    """Requests in flight in this process, and when the last one ended."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.last_end = 0.0

    def started(self) -> None:
        with self.lock:
            self.in_flight += 1

    def ended(self, _error=None) -> None:
        with self.lock:
            self.in_flight = max(0, self.in_flight - 1)
            self.last_end = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the process last served a request (0 while one is running)."""
        with self.lock:
            return 0.0 if self.in_flight else time.monotonic() - self.last_end


class _Dispatcher:
    """One daemon thread per process running deferred jobs in order, each in an app context."""

    def __init__(self, app: Flask, maxsize: int = 10_000):
        self.app = app
        self.jobs: queue.Queue = queue.Queue(maxsize=maxsize)
        self.pid = os.getpid()
        self.draining = False
        self.thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
        self.thread.start()
        atexit.register(self.flush, 30.0)

    def submit(self, fn: Callable, args: tuple) -> bool:
        try:
            self.jobs.put_nowait((fn, args, time.monotonic()))
        except queue.Full:
            return False
        return True

    def _wait_for_quiet(self, queued_at: float) -> None:
        activity = self.app.extensions.get("mail_activity")
        if activity is None:
            return
        quiet = self.app.config.get("MAIL_QUIET_MS", 100) / 1000
        deadline = queued_at + float(self.app.config.get("MAIL_MAX_DELAY", 30))
        while time.monotonic() < deadline and not self.draining:
            idle = activity.quiet_for()
            if idle >= quiet:
                return
            time.sleep(max(quiet - idle, 0.005))

    def _run(self) -> None:
        while True:
            fn, args, queued_at = self.jobs.get()
            try:
                self._wait_for_quiet(queued_at)
                with self.app.app_context():
                    _run_job(fn, args)
            finally:
                self.jobs.task_done()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued job has run (at most `timeout` seconds); True when drained."""
        if os.getpid() != self.pid:
            return True
        self.draining = True  # whoever waits wants the messages out now
        done = threading.Event()

        def wait() -> None:
            self.jobs.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        try:
            return done.wait(timeout)
        finally:
            self.draining = False


_dispatchers: dict[int, _Dispatcher] = {}
_dispatchers_lock = threading.Lock()


def _dispatcher(app: Flask) -> _Dispatcher:
    """The process's dispatcher for `app` (a forked worker starts its own thread)."""
    key = id(app)
    with _dispatchers_lock:
        found = _dispatchers.get(key)
        if found is None or found.pid != os.getpid():
            found = _dispatchers[key] = _Dispatcher(app)
        return found


def _run_job(fn: Callable, args: tuple) -> None:
    try:
        fn(*args)
    except Exception:  # logged; the data the message is about is already committed
        current_app.logger.exception("Deferred mail job %s failed", getattr(fn, "__name__", fn))


def defer(fn: Callable, *args) -> None:
    """Run `fn(*args)` after the current work: on the background thread when MAIL_ASYNC is on
    (pass ids and plain values, not database objects), else right now. Never raises."""
    app = current_app._get_current_object()
    if app.config.get("MAIL_ASYNC") and _dispatcher(app).submit(fn, args):
        return
    _run_job(fn, args)


def flush(timeout: float | None = 30.0) -> bool:
    """Wait for the deferred jobs of this process (no-op without MAIL_ASYNC)."""
    found = _dispatchers.get(id(current_app._get_current_object()))
    return True if found is None else found.flush(timeout)
