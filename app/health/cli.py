"""`flask capacity-check`: the health feature's capacity figures and alerts on demand
(the same limits app/operations' periodic job `operations-alerts` evaluates every minute)."""

from __future__ import annotations

import click


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
