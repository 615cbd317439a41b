"""Outgoing mail: .eml files in the outbox, SMTP, the background sender, and what the messages hold."""
from __future__ import annotations

import email
import re
import socket
import socketserver
import threading
from email import policy
from email.message import EmailMessage

import icalendar
import pytest

from forum_app import mail
from forum_app.config import Config
from forum_app.extensions import db
from forum_app.registration import notifications, services

EML_NAME = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{32}\.eml$")


def _person(n, **changes) -> services.RegistrationInput:
    values = {"first_name": f"Prénom{n}", "last_name": f"Nom{n}", "email": f"personne{n}@example.org", "consent": True}
    values.update(changes)
    return services.RegistrationInput(**values)


def _outbox_files(directory):
    return sorted(directory.glob("*.eml"))


def _parse(path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _attachments(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    return {part.get_filename(): (part.get_content_type(), part.get_payload(decode=True)) for part in message.iter_attachments()}


@pytest.fixture
def outbox(app, tmp_path):
    directory = tmp_path / "outbox"
    app.config.update(MAIL_BACKEND="outbox", MAIL_OUTBOX_DIR=str(directory), PUBLIC_BASE_URL="https://forum.example.org")
    return directory


# --- the outbox ---


def test_confirmation_is_a_valid_eml_with_link_calendar_and_badge(outbox, demo_event):
    registration = services.register(demo_event, _person(1, first_name="Zoé", workshop_codes=["A1", "A5"])).registration

    (path,) = _outbox_files(outbox)
    assert EML_NAME.match(path.name)
    message = _parse(path)
    assert message["To"].addresses[0].addr_spec == "personne1@example.org"
    assert message["To"].addresses[0].display_name == "Zoé Nom1"
    assert message["Subject"].startswith("Inscription confirmée — Cités Cap 2019")
    assert message["Message-ID"] and message["Date"]
    link = f"https://forum.example.org/e/{demo_event.slug}/me/{registration.access_token}"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert link in text and f'href="{link}"' in html
    assert "Bonjour Zoé," in text and '<html lang="fr">' in html
    attachments = _attachments(message)
    assert set(attachments) == {f"{demo_event.slug}-mes-ateliers.ics", f"badge-{demo_event.slug}.pdf"}
    calendar_type, calendar_bytes = attachments[f"{demo_event.slug}-mes-ateliers.ics"]
    assert calendar_type == "text/calendar"
    calendar = icalendar.Calendar.from_ical(calendar_bytes)
    assert sorted(str(e["summary"]) for e in calendar.walk("VEVENT")) == sorted(
        s.title for s in demo_event.sessions if s.code in ("A1", "A5")
    )
    pdf_type, pdf_bytes = attachments[f"badge-{demo_event.slug}.pdf"]
    assert pdf_type == "application/pdf" and pdf_bytes.startswith(b"%PDF-")


def test_outbox_lines_end_with_crlf_and_nothing_is_half_written(outbox, demo_event):
    services.register(demo_event, _person(1))
    services.register(demo_event, _person(2))

    files = _outbox_files(outbox)
    assert len(files) == 2
    assert list(outbox.glob("*.part")) == []
    raw = files[0].read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_pending_registration_gets_no_badge_yet(outbox, demo_event):
    demo_event.approval_required = True
    db.session.commit()

    services.register(demo_event, _person(1, workshop_codes=["A1"]))

    message = _parse(_outbox_files(outbox)[0])
    assert message["Subject"].startswith("Demande d'inscription reçue")
    assert [name for name in _attachments(message) if name.endswith(".pdf")] == []
    assert "place réservée" in message.get_body(("plain",)).get_content()


def test_no_workshop_means_no_calendar(outbox, demo_event):
    services.register(demo_event, _person(1))

    message = _parse(_outbox_files(outbox)[0])
    assert [name for name in _attachments(message) if name.endswith(".ics")] == []


def test_message_is_in_the_registration_language(app, demo_event):
    services.register(demo_event, _person(1, workshop_codes=["A1"], language="en"))
    services.register(demo_event, _person(2, workshop_codes=["A1"], language="fr"))

    english, french = mail.memory_outbox()
    assert english["Content-Language"] == "en"
    assert "Thursday 6 June, 11:30 – 13:00" in english.get_body(("plain",)).get_content()
    assert '<html lang="en">' in english.get_body(("html",)).get_content()
    assert french["Content-Language"] == "fr"
    assert "jeudi 6 juin, 11 h 30 – 13 h 00" in french.get_body(("plain",)).get_content()


def test_user_text_is_escaped_in_the_html_body(app, demo_event):
    services.register(demo_event, _person(1, first_name="<script>alert(1)</script>"))

    (message,) = mail.memory_outbox()
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>alert(1)</script>" in message.get_body(("plain",)).get_content()


def test_link_uses_the_request_host_when_no_public_base_url(app, client, demo_event):
    app.config["PUBLIC_BASE_URL"] = None
    with app.test_request_context("/", base_url="https://inscriptions.example.net"):
        registration = services.register(demo_event, _person(1)).registration

    (message,) = mail.memory_outbox()
    assert f"https://inscriptions.example.net/e/{demo_event.slug}/me/{registration.access_token}" in (
        message.get_body(("plain",)).get_content()
    )


def test_every_kind_of_message_composes_in_both_languages(app, demo_event):
    registration = services.register(demo_event, _person(1, workshop_codes=["A1"])).registration
    session = registration.seats[0].session

    for language in ("fr", "en"):
        registration.language = language
        for kind in notifications.KINDS:
            message = notifications.compose(kind, registration, session=session, base_url="https://forum.example.org")
            assert message["Subject"], kind
            assert registration.access_token in message.get_body(("plain",)).get_content(), kind


def test_non_ascii_address_is_written_to_the_outbox(outbox, demo_event):
    services.register(demo_event, _person(1, email="zoé@exemple.fr"))

    (path,) = _outbox_files(outbox)
    message = email.message_from_string(path.read_bytes().decode("utf-8"), policy=policy.default)  # RFC 6532 headers
    assert message["To"].addresses[0].addr_spec == "zoé@exemple.fr"
    assert message["To"].addresses[0].display_name == "Prénom1 Nom1"


# --- SMTP ---


class _SMTPHandler(socketserver.StreamRequestHandler):
    """A minimal SMTP server: enough of RFC 5321 for smtplib to hand over one message."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif command == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                self.server.received.append(data)
                self.wfile.write(b"250 queued\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # MAIL FROM, RCPT TO, RSET, NOOP
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_smtp_backend_hands_the_message_to_the_server(app, demo_event, smtp_server):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.server_address[1])

    registration = services.register(demo_event, _person(1)).registration

    (data,) = smtp_server.received
    message = email.message_from_bytes(data, policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "personne1@example.org"
    assert registration.access_token in message.get_body(("plain",)).get_content()


def test_send_returns_false_and_logs_when_the_server_is_down(app, caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=2)
    message = EmailMessage()
    message["To"] = "personne@example.org"
    message["Subject"] = "Essai"
    message.set_content("Bonjour")

    assert mail.send(message) is False
    assert "Mail not sent" in caplog.text


def test_mail_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MAIL_BACKEND", "smtp")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("MAIL_PORT", "587")
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    monkeypatch.setenv("MAIL_USERNAME", "forum")
    monkeypatch.setenv("MAIL_PASSWORD", "secret")
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "Forum <forum@example.org>")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://forum.example.org")

    env = Config.from_env()

    assert env["MAIL_BACKEND"] == "smtp" and env["MAIL_SERVER"] == "smtp.example.org"
    assert env["MAIL_PORT"] == 587 and env["MAIL_USE_TLS"] is True
    assert (env["MAIL_USERNAME"], env["MAIL_PASSWORD"]) == ("forum", "secret")
    assert env["MAIL_DEFAULT_SENDER"] == "Forum <forum@example.org>"
    assert env["PUBLIC_BASE_URL"] == "https://forum.example.org"


def test_unknown_backend_is_refused_at_start():
    from forum_app import create_app
    from forum_app.config import TestConfig

    with pytest.raises(ValueError, match="MAIL_BACKEND"):
        create_app(type("BadMail", (TestConfig,), {"MAIL_BACKEND": "pigeon"}))


# --- background sending ---


def test_background_sender_sends_after_the_registration_returns(app, demo_event):
    app.config["MAIL_ASYNC"] = True

    registration = services.register(demo_event, _person(1, workshop_codes=["A1"])).registration
    assert mail.flush(timeout=30)

    (message,) = mail.memory_outbox()
    assert message["X-Forum-Message"] == "confirmed"
    assert registration.access_token in message.get_body(("plain",)).get_content()
