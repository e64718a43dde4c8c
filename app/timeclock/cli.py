"""`flask timeclock close-forgotten`: the nightly job, run by hand."""

from __future__ import annotations

import click
from flask.cli import AppGroup

timeclock = AppGroup("timeclock", help="The time clock.")


@timeclock.command("close-forgotten")
def close_forgotten_command():
    """Close punches open longer than 14 hours and flag them for review."""
    from workers.timeclock import close_forgotten

    closed = close_forgotten()
    click.echo(f"Closed {closed} forgotten punch{'es' if closed != 1 else ''}.")
