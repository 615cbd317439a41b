"""Device tokens' rules, without the app: the secret's shape, its digest, a device's name."""
from __future__ import annotations

import hashlib
import re
import secrets

PREFIX = "fad_"  # forum_app device: recognisable in a leaked log or a secret scanner
_SECRET = re.compile(r"^fad_[A-Za-z0-9_-]{43}$")  # 32 random bytes, URL-safe base64 without padding
NAME_MAX = 100
HINT_LENGTH = 8  # "fad_" and 4 characters of the random part: enough to tell devices apart, useless to guess
LAST_USED_STEP_SECONDS = 60  # `last_used_at` is rewritten at most once a minute (not a write per scan)


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def well_formed(secret: object) -> bool:
    return isinstance(secret, str) and _SECRET.match(secret) is not None


def digest(secret: str) -> str:
    """What is stored and looked up: the secret has 256 random bits, a plain SHA-256 is enough."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def hint(secret: str) -> str:
    return secret[:HINT_LENGTH]


def clean_name(name: object) -> str | None:
    """The device's name as an organiser typed it (spaces tidied), or None when unusable."""
    if not isinstance(name, str):
        return None
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX or any(ord(c) < 32 for c in name):
        return None
    return name


def bearer_secret(authorization: str | None) -> str | None:
    """The secret of an `Authorization: Bearer <secret>` header; "" for a Bearer header that holds
    no well-formed secret; None when the request does not use a bearer token at all."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    return value if well_formed(value) else ""
