"""Password hashing (argon2id) and the password policy of SPEC.md §4.

The hasher's cost comes from the settings `PASSWORD_HASH_TIME_COST` and
`PASSWORD_HASH_MEMORY_COST` (argon2-cffi's defaults; production refuses weaker ones, the
test settings use cheap ones). A stored hash carries its own parameters, so hashes made
with other costs still verify."""

from __future__ import annotations

import re
import secrets
import string
from functools import lru_cache

from argon2 import DEFAULT_MEMORY_COST, DEFAULT_TIME_COST, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context


@lru_cache(maxsize=8)
def _hasher_for(time_cost: int, memory_cost: int) -> tuple[PasswordHasher, str]:
    """The hasher for these costs and a dummy hash of the same cost (timing equaliser)."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    return hasher, hasher.hash("timing-equaliser-Passw0rd!")


def _hasher() -> tuple[PasswordHasher, str]:
    config = current_app.config if has_app_context() else {}
    return _hasher_for(
        int(config.get("PASSWORD_HASH_TIME_COST", DEFAULT_TIME_COST)),
        int(config.get("PASSWORD_HASH_MEMORY_COST", DEFAULT_MEMORY_COST)),
    )


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant effort whether or not the user exists (no user enumeration by timing)."""
    hasher, dummy = _hasher()
    try:
        return hasher.verify(stored_hash or dummy, password) and stored_hash is not None
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
