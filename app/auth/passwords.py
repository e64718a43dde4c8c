"""Password hashing (argon2id) and the password policy of SPEC.md §4.

The hasher's cost comes from the settings `PASSWORD_HASH_TIME_COST` and
`PASSWORD_HASH_MEMORY_COST` (argon2-cffi's defaults; production refuses weaker ones, the
test settings use cheap ones). A stored hash carries its own parameters, so hashes made
with other costs still verify.

Hashing runs off the event loop. Under gunicorn's gevent worker (monkey-patched) every
hash and check runs in a small pool of native threads, `PASSWORD_HASH_THREADS` per
worker (argon2-cffi releases the GIL in its C code), while the calling greenlet waits and
the loop serves everything else; a burst of sign-ins queues for those threads instead of
stalling `/health/` and every page. Without monkey-patching (tests, the CLI, jobs) it is
a plain call. Measured in docs/performance.md."""

from __future__ import annotations

import os
import re
import secrets
import string
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from argon2 import DEFAULT_MEMORY_COST, DEFAULT_TIME_COST, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context


@lru_cache(maxsize=8)
def _hasher_for(time_cost: int, memory_cost: int) -> tuple[PasswordHasher, str]:
    """The hasher for these costs and a dummy hash of the same cost (timing equaliser)."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    return hasher, hasher.hash("timing-equaliser-Passw0rd!")


def _costs() -> tuple[int, int]:
    config = current_app.config if has_app_context() else {}
    return (
        int(config.get("PASSWORD_HASH_TIME_COST", DEFAULT_TIME_COST)),
        int(config.get("PASSWORD_HASH_MEMORY_COST", DEFAULT_MEMORY_COST)),
    )


DEFAULT_HASH_THREADS = 1
_pool = None  # (pid, gevent ThreadPool) of this worker process, made on first use


def _threads() -> int:
    config = current_app.config if has_app_context() else {}
    return max(1, int(config.get("PASSWORD_HASH_THREADS", DEFAULT_HASH_THREADS)))


def _under_gevent() -> bool:
    """True in a monkey-patched gevent process (gunicorn's gevent worker)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def _off_loop(fn: Callable, *args):
    """`fn(*args)`, in this worker's hashing threads when under gevent (the greenlet
    waits, the loop goes on), else directly. Exceptions come back to the caller.

    Its own pool rather than the hub's: the hub's (10 threads) also resolves host names,
    and 10 concurrent argon2 hashes of 64 MiB each would take 640 MiB and every core."""
    global _pool
    if not _under_gevent():
        return fn(*args)
    if _pool is None or _pool[0] != os.getpid():
        from gevent.threadpool import ThreadPool

        _pool = (os.getpid(), ThreadPool(_threads()))
    return _pool[1].apply(fn, args)


_HASH_NICENESS = 10
_niced: set[int] = set()  # native ids of the hashing threads already lowered


def _yield_cpu() -> None:
    """Once per hashing thread (Linux: niceness is per thread): lower its CPU priority, so
    when cores are short the event loop's thread wins and requests stay quick while a
    burst of sign-ins waits a little longer. Never on the loop's own thread."""
    if not _under_gevent():
        return
    from gevent.monkey import get_original

    native_id = get_original("threading", "get_native_id")()  # the OS thread, not a greenlet
    if native_id in _niced:
        return
    _niced.add(native_id)
    try:
        os.setpriority(os.PRIO_PROCESS, native_id, _HASH_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: hashing still works
        pass


def _hash(costs: tuple[int, int], password: str) -> str:
    _yield_cpu()
    return _hasher_for(*costs)[0].hash(password)


def _verify(costs: tuple[int, int], stored_hash: str | None, password: str) -> bool:
    _yield_cpu()
    hasher, dummy = _hasher_for(*costs)  # the first call makes the dummy hash: off the loop too
    try:
        return hasher.verify(stored_hash or dummy, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"password longer than {MAX_PASSWORD_LENGTH} characters")
    return _off_loop(_hash, _costs(), password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant effort whether or not the user exists (no user enumeration by timing).
    A password over MAX_PASSWORD_LENGTH is never hashed: no stored one can be that long."""
    if len(password or "") > MAX_PASSWORD_LENGTH:
        return False
    return _off_loop(_verify, _costs(), stored_hash, password or "")


# Longer passwords are refused before any hashing (argon2 over 200 KB is a cheap way to
# make a worker busy); sign-in treats a longer one as wrong without hashing it.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128

_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
_LEET = str.maketrans({"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o", "$": "s", "5": "s", "7": "t"})


def _stem(text: str) -> str:
    """`text` lower-cased without leading and trailing digits and symbols ("Password1!" → "password")."""
    return re.sub(r"^[\W\d_]+|[\W\d_]+$", "", text.lower())


def _variants(password: str) -> set[str]:
    lower = password.lower()
    found = {lower, _stem(password), _stem(lower.translate(_LEET)), lower.translate(_LEET)}
    return {item for item in found if item}


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list, with each entry's variants (so "p@ssw0rd" matches "password")."""
    words: set[str] = set()
    for line in _COMMON_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words |= _variants(line)
    return frozenset(words)


def is_common(password: str) -> bool:
    return bool(_variants(password) & common_passwords())


def policy_problem(password: str) -> str | None:
    """Why `password` is not acceptable, or None. A symbol is any character that is not a
    letter or digit in any script ("é" is a letter, not a symbol)."""
    password = password or ""
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters."
    missing = []
    if len(password) < MIN_PASSWORD_LENGTH:
        missing.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if not any(ch.isupper() for ch in password):
        missing.append("an upper-case letter")
    if not any(ch.islower() for ch in password):
        missing.append("a lower-case letter")
    if not any(ch.isdigit() for ch in password):
        missing.append("a digit")
    if not any(not ch.isalnum() for ch in password):
        missing.append("a symbol")
    if missing:
        return "Password needs " + ", ".join(missing) + "."
    if is_common(password):
        return "This password is too common (it is on lists attackers try first). Choose another."
    return None


def generate_password(length: int = 14) -> str:
    """A one-time password that satisfies the policy."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*-_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if policy_problem(candidate) is None:
            return candidate
