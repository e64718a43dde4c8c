"""App-wide commands: `flask seed-demo`, `flask rotate-encryption-key`. Features add their
own (e.g. `flask create-user` from app/users/cli.py, `flask capacity-check` from app/health/cli.py)."""

from __future__ import annotations

import click
from flask import Flask

from app.extensions import db


def register_cli(app: Flask) -> None:
    """The app-wide commands, then each feature's (declared in its `Feature(commands=…)`)."""
    from app.core.features import installed
    from app.core.migrations import db_command

    for command in (db_command, seed_demo_command, rotate_key_command):
        app.cli.add_command(command)
    for feature in installed(app):
        for command in feature.commands:
            app.cli.add_command(command)


@click.command("seed-demo")
@click.option("--scale", default=0, type=int, help="Also create N× 2 clients, 20 projects and 3 users (benchmarks).")
@click.option("--password", default="Kibray!2026", help="Password of the demo accounts.")
def seed_demo_command(scale, password):
    """Create a realistic demo company, one user per role; --scale N adds bulk volume."""
    from app.core.audit import acting_as
    from app.seed import seed_bulk, seed_demo

    with acting_as("seed-demo", "system"):
        created = seed_demo(password)
        db.session.commit()
        if created:
            click.echo(f"Demo company created. Sign in with any of these (password for all: {password}):")
        else:
            click.echo(f"Demo company already present. Demo logins (password: {password}):")
        from app.seed import DEMO_USERS

        for username, role, _name in DEMO_USERS:
            click.echo(f"  {username:<12} {role}")
        if scale:
            counts = seed_bulk(scale, password)
            db.session.commit()
            click.echo("Bulk data added: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@click.command("rotate-encryption-key")
def rotate_key_command():
    """Re-encrypt sensitive fields with the first key of FIELD_ENCRYPTION_KEY."""
    from sqlalchemy import text

    from app.core.crypto import rotate
    from app.core.features import encrypted_columns

    updated = 0
    for table, column in encrypted_columns():  # declared by each feature
        rows = db.session.execute(text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()  # noqa: S608 - fixed names
        for row_id, token in rows:
            update = text(f"UPDATE {table} SET {column} = :v WHERE id = :i")  # noqa: S608 - fixed names
            db.session.execute(update, {"v": rotate(token), "i": row_id})
            updated += 1
    db.session.commit()
    click.echo(f"Re-encrypted {updated} value(s).")
