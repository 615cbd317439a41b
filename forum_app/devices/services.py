"""Adding, listing and revoking an event's door devices; recognising one from its bearer token."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from forum_app import clock
from forum_app.audit import actions as audit
from forum_app.db import begin_write
from forum_app.devices import domain
from forum_app.devices.models import DeviceToken
from forum_app.errors import InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.programme.models import Event

MAX_ACTIVE_PER_EVENT = 200  # far beyond any venue's doors: a runaway script stops here


@dataclass(frozen=True)
class NewDevice:
    device: DeviceToken
    secret: str  # shown once to the organiser, never stored


def devices(event: Event) -> list[DeviceToken]:
    """The event's devices, active ones first, newest first."""
    return list(
        db.session.scalars(
            db.select(DeviceToken)
            .where(DeviceToken.event_id == event.id)
            .order_by(DeviceToken.revoked_at.is_not(None), DeviceToken.created_at.desc(), DeviceToken.id.desc())
        )
    )


def add_device(event: Event, name: str, actor) -> NewDevice:
    clean = domain.clean_name(name)
    if clean is None:
        raise InvalidInput(
            _l("Donnez un nom à l'appareil (1 à %(max)d caractères), par exemple « Porte 2 – douchette ».",
               max=domain.NAME_MAX),
            field="name",
        )
    active = db.session.scalar(
        db.select(db.func.count(DeviceToken.id)).where(DeviceToken.event_id == event.id, DeviceToken.revoked_at.is_(None))
    )
    if active >= MAX_ACTIVE_PER_EVENT:
        raise InvalidInput(_l("Trop d'appareils actifs pour cet événement : révoquez ceux qui ne servent plus."), field="name")
    secret = domain.new_secret()
    device = DeviceToken(
        event_id=event.id, name=clean, token_hash=domain.digest(secret), token_hint=domain.hint(secret),
        created_by_id=getattr(actor, "id", None), created_at=clock.now(),
    )
    db.session.add(device)
    db.session.flush()  # the journal names the device's id
    audit.device_added(event, device, actor)
    db.session.commit()
    return NewDevice(device, secret)


def get_device(event: Event, device_id: int) -> DeviceToken:
    device = db.session.get(DeviceToken, device_id)
    if device is None or device.event_id != event.id:
        raise NotFound(_l("Cet appareil n'existe pas."))
    return device


def revoke_device(event: Event, device_id: int, actor) -> DeviceToken:
    """The token stops working at once; revoking twice changes nothing more."""
    device = get_device(event, device_id)
    if device.revoked_at is None:
        device.revoked_at = clock.now()
        device.revoked_by_id = getattr(actor, "id", None)
        audit.device_revoked(event, device, actor)
        db.session.commit()
    return device


def device_for_secret(secret: str) -> DeviceToken | None:
    """The active device holding this secret, or None (unknown, revoked, malformed)."""
    if not domain.well_formed(secret):
        return None
    device = db.session.scalar(db.select(DeviceToken).where(DeviceToken.token_hash == domain.digest(secret)))
    if device is None or device.revoked_at is not None:
        return None
    return device


def note_use(device: DeviceToken) -> None:
    """Remember when the device was last heard from, at most once a minute (a scan must not
    become two writes); commits only when it writes."""
    now = clock.now()
    if device.last_used_at is None or now - device.last_used_at >= timedelta(seconds=domain.LAST_USED_STEP_SECONDS):
        begin_write(db.session)  # in the writers' queue like every other write (SQLite)
        device.last_used_at = now
        db.session.commit()
