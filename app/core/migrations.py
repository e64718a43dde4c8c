"""Alembic (through Flask-Migrate) only where it is used: the `flask db …` commands, the
release phase and the tests. Importing it costs ~0.4–0.7 s, which a web worker never
needs, so the web process starts without it (cold start, docs/performance.md):

- `flask db …` is a small click group that sets Flask-Migrate up on first use and hands
  over to its real commands;
- `init_migrate(app)` sets it up for code that calls `flask_migrate.upgrade()` directly
  (the tests);
- `heads()` reads the newest revision ids from migrations/versions/ without Alembic, for
  the health check ("the database is at the newest migration").
"""

from __future__ import annotations

import ast
import os
import re
from functools import cache

import click
from flask import Flask, g
from flask.cli import ScriptInfo, with_appcontext

from app.config import ROOT

MIGRATIONS = os.path.join(ROOT, "migrations")


def init_migrate(app: Flask) -> None:
    """Set Flask-Migrate up on `app` (once)."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    from app.extensions import db

    Migrate().init_app(app, db, directory=MIGRATIONS, render_as_batch=True, compare_type=True)


class LazyDbGroup(click.Group):
    """`flask db`: Flask-Migrate's group, loaded when a `db` command is run or listed."""

    def _real(self, ctx) -> click.Group:
        from flask_migrate.cli import db as real

        init_migrate(ctx.ensure_object(ScriptInfo).load_app())
        return real

    def list_commands(self, ctx):
        return self._real(ctx).list_commands(ctx)

    def get_command(self, ctx, name):
        return self._real(ctx).get_command(ctx, name)


@click.group("db", cls=LazyDbGroup)
@click.option("-d", "--directory", default=None, help='Migration script directory (default is "migrations")')
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts")
@with_appcontext
def db_command(directory, x_arg):
    """Perform database migrations (Flask-Migrate / Alembic)."""
    g.directory = directory  # read by Flask-Migrate's commands, as its own group does
    g.x_arg = x_arg


_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*(?:#.*)?$", re.M)


@cache
def heads() -> frozenset[str]:
    """The revision ids no other revision builds on (Alembic's "heads"), read from the
    `revision` / `down_revision` assignments of each file in migrations/versions/: the
    one-line assignments Alembic writes are read as they are (the first health probe of
    a process reads them: parsing whole files took ~15 ms), anything else by parsing
    the file."""
    revisions, parents = set(), set()
    versions = os.path.join(MIGRATIONS, "versions")
    for name in os.listdir(versions):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(versions, name), encoding="utf-8") as source:
            text = source.read()
        found = _assignments(text, name)
        revisions.add(found["revision"])
        down = found.get("down_revision")
        if down:
            parents.update([down] if isinstance(down, str) else down)
    return frozenset(revisions - parents)


def _assignments(text: str, name: str) -> dict:
    """`revision` and `down_revision` of one migration file, by name."""
    found = {}
    try:
        for target, value in _ASSIGNMENT.findall(text):
            found.setdefault(target, ast.literal_eval(value))
    except (ValueError, SyntaxError):
        found = {}
    if "revision" in found and "down_revision" in found:
        return found
    found = {}
    for node in ast.parse(text, name).body:  # not the usual one-line form
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            found[target.id] = ast.literal_eval(node.value)
    return found
