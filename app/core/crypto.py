"""Encrypted column type for sensitive fields (tax ids, bank accounts, TOTP secrets, tokens).

FIELD_ENCRYPTION_KEY holds one or more comma-separated Fernet keys: the first encrypts,
all decrypt, so a key is rotated by putting the new one first and running
`flask rotate-encryption-key` to re-encrypt stored values.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

_cache: dict[str, MultiFernet] = {}


def fernet() -> MultiFernet:
    keys = current_app.config.get("FIELD_ENCRYPTION_KEY")
    if not keys:
        # Embedded/development without a key: derive a stable per-secret key so data
        # is still not stored in clear; production refuses to start without a key.
        import base64
        import hashlib

        digest = hashlib.sha256(("field-key:" + current_app.config["SECRET_KEY"]).encode()).digest()
        keys = base64.urlsafe_b64encode(digest).decode()
    if keys not in _cache:
        _cache[keys] = MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
    return _cache[keys]


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode()).decode()


class EncryptedString(TypeDecorator):
    """A string stored as a Fernet token; reads decrypt with any configured key."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


def rotate(token: str) -> str:
    """Re-encrypt a stored token with the current first key."""
    return fernet().rotate(token.encode()).decode()
