"""`flask operations evaluate`: run the alert rules now (what the periodic job does every
minute), print the figures' verdict and exit 1 while any alert holds."""

from __future__ import annotations

import click
from flask.cli import AppGroup

operations = AppGroup("operations", help="Alerts and the operations page.")


@operations.command("evaluate")
def evaluate_command():
    """Evaluate every alert rule once; open and clear alerts, tell the channels."""
    from app.operations import alerts

    outcome = alerts.evaluate()  # commits (the admins' notifications) itself
    for event in outcome.opened:
        click.echo(f"OPENED {event['severity']}: {event['message']}")
    for event in outcome.cleared:
        click.echo(f"CLEARED: {event['message']}")
    for condition in outcome.holding:
        click.echo(f"ALERT {condition.severity}: {condition.message}")
    if outcome.figures["unreadable"]:
        click.echo(f"unreadable: {', '.join(outcome.figures['unreadable'])}")
    if outcome.holding:
        raise SystemExit(1)
