"""`flask create-user`: the first administrator of a real install, and scripts."""

from __future__ import annotations

import click
from sqlalchemy import select

from app.extensions import db


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, help="One of the seven role codes.")
@click.option("--email", required=True)
@click.option("--password", required=True, help="Must satisfy the password policy.")
@click.option("--full-name", default="")
@click.option("--client", "client_name", default=None, help="Client company (for client users); created if missing.")
def create_user_command(username, role, email, password, full_name, client_name):
    """Create a user (first setup and scripts)."""
    from app.clients.models import Client
    from app.core.audit import acting_as
    from app.core.errors import ValidationError
    from app.core.roles import CLIENT, ROLES
    from app.users.services import create_user

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
