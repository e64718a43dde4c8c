"""PostgreSQL housekeeping shared by the tests and the benchmarks: connect by URL, and
create or re-create a scratch database (never one of the server's own)."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
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


def known_revisions(versions_dir: Path = MIGRATIONS) -> set[str]:
    """The revision ids this checkout's migrations declare."""
    found = set()
    for path in versions_dir.glob("*.py"):
        match = re.search(r'^revision\s*=\s*["\']([^"\']+)["\']', path.read_text(), re.M)
        if match:
            found.add(match.group(1))
    return found


def ensure_scratch_database(url: str) -> bool:
    """Create the URL's database if missing; re-create it if it records a migration this
    checkout does not know (left by another branch's run on this machine: upgrading it
    would fail with "Can't locate revision"). True when it was re-created."""
    ensure_database(url)
    with connect(url, autocommit=True) as conn:
        has_table = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()[0]
        recorded = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")} if has_table else set()
    if recorded - known_revisions():
        recreate_database(url)
        return True
    return False


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
