"""Password hashing (argon2id) and the password policy of SPEC.md §4."""

from __future__ import annotations

import re
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("timing-equaliser-Passw0rd!")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant effort whether or not the user exists (no user enumeration by timing)."""
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def policy_problem(password: str) -> str | None:
    """Why `password` is not acceptable, or None."""
    password = password or ""
    missing = []
    if len(password) < 8:
        missing.append("at least 8 characters")
    if not re.search(r"[A-Z]", password):
        missing.append("an upper-case letter")
    if not re.search(r"[a-z]", password):
        missing.append("a lower-case letter")
    if not re.search(r"\d", password):
        missing.append("a digit")
    if not re.search(r"[^A-Za-z0-9]", password):
        missing.append("a symbol")
    if missing:
        return "Password needs " + ", ".join(missing) + "."
    return None


def generate_password(length: int = 14) -> str:
    """A one-time password that satisfies the policy."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*-_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if policy_problem(candidate) is None:
            return candidate
