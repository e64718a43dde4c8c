"""Command-line tools: `flask create-user`, `flask seed-demo`, `flask rotate-encryption-key`."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from app.extensions import db


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(rotate_key_command)
    app.cli.add_command(capacity_command)


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, help="One of the seven role codes.")
@click.option("--email", required=True)
@click.option("--password", required=True, help="Must satisfy the password policy.")
@click.option("--full-name", default="")
@click.option("--client", "client_name", default=None, help="Client company (for client users); created if missing.")
def create_user_command(username, role, email, password, full_name, client_name):
    """Create a user (first setup and scripts)."""
    from app.auth.services import create_user
    from app.clients.models import Client
    from app.core.audit import acting_as
    from app.core.errors import ValidationError
    from app.core.roles import CLIENT, ROLES

    if role not in ROLES:
        raise click.ClickException(f"--role must be one of: {', '.join(ROLES)}")
    if role == CLIENT and not client_name:
        raise click.ClickException("A client user needs --client NAME (the client company).")
    if client_name and role != CLIENT:
        raise click.ClickException("--client only applies to users with --role client.")
    with acting_as("cli", "system"):
        client_id = None
        if client_name:
            client = db.session.scalar(select(Client).where(Client.name == client_name.strip()))
            if client is None:
                client = Client(name=client_name.strip())
                db.session.add(client)
                db.session.flush()
            client_id = client.id
        try:
            user = create_user(
                None,
                username=username,
                email=email,
                role=role,
                password=password,
                full_name=full_name,
                client_id=client_id,
            )
        except ValidationError as exc:
            db.session.rollback()
            raise click.ClickException(
                " ".join(f"{field}: {message}" for field, message in exc.fields.items())
            ) from None
        db.session.commit()
    click.echo(f"Created user {user.username} ({user.role}) id={user.id}")


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

    updated = 0
    for table, column in (("users", "totp_secret"), ("clients", "tax_id")):
        rows = db.session.execute(text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()  # noqa: S608 - fixed names
        for row_id, token in rows:
            update = text(f"UPDATE {table} SET {column} = :v WHERE id = :i")  # noqa: S608 - fixed names
            db.session.execute(update, {"v": rotate(token), "i": row_id})
            updated += 1
    db.session.commit()
    click.echo(f"Re-encrypted {updated} value(s).")


@click.command("capacity-check")
def capacity_command():
    """Database connections, Redis memory and queue lengths against the alert limits."""
    from app.core.monitoring import alerts, measure

    figures = measure()
    click.echo(f"database connections: {figures['db_connections']}")
    click.echo(
        f"redis memory / limit: {figures['redis_memory_ratio'] if figures['redis_memory_ratio'] is not None else 'no limit set'}"
    )
    for name, length in figures["queues"].items():
        click.echo(f"queue {name}: {length}")
    found = alerts(figures)
    for message in found:
        click.echo(f"ALERT: {message}")
    if found:
        raise SystemExit(1)
