"""PostgreSQL housekeeping shared by the tests and the benchmarks: connect by URL, and
create or re-create a scratch database (never one of the server's own)."""

from __future__ import annotations

import re

import psycopg
from sqlalchemy.engine import make_url

PROTECTED = {"postgres", "template0", "template1"}


def connect(url: str, database: str | None = None, **options) -> psycopg.Connection:
    """A psycopg connection to the server of `url` (to `database`, default: the URL's)."""
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password or None,
        dbname=database or parsed.database,
        connect_timeout=options.pop("connect_timeout", 5),
        **options,
    )


def _checked_name(url: str) -> str:
    name = make_url(url).database or ""
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or name in PROTECTED:
        raise ValueError(f"refusing to manage a database named {name!r}")
    return name


def database_exists(url: str) -> bool:
    with connect(url, "postgres", autocommit=True) as admin:
        return (
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (make_url(url).database,)).fetchone()
            is not None
        )


def ensure_database(url: str) -> None:
    """Create the URL's database if it does not exist yet."""
    name = _checked_name(url)
    with connect(url, "postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def recreate_database(url: str) -> None:
    """Drop (closing its connections) and create the URL's database: an empty one."""
    name = _checked_name(url)
    with connect(url, "postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    name = _checked_name(url)
    with connect(url, "postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
