"""`flask schedule rebuild`: every stored conflict and risk level from scratch."""

from __future__ import annotations

import click
from flask.cli import AppGroup

schedule = AppGroup("schedule", help="The schedule's conflicts.")


@schedule.command("rebuild")
def rebuild_command():
    """Recompute every conflict (after a bulk import that bypassed the app)."""
    from app.extensions import db
    from app.schedule.engine import rebuild

    count = rebuild()
    db.session.commit()
    click.echo(f"{count} conflict{'s' if count != 1 else ''} stored.")
