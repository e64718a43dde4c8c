"""`flask calendar feed-url USERNAME [--project ID]`: a person's subscription URL (made
on first ask) — for support ("send me the link again") and the benchmark."""

from __future__ import annotations

import click
from flask import current_app, url_for
from flask.cli import AppGroup

calendar = AppGroup("calendar", help="Calendar subscriptions.")


@calendar.command("feed-url")
@click.argument("username")
@click.option("--project", "project_id", type=int, default=None, help="A project's feed instead of their schedule.")
@click.option("--base-url", default="http://localhost", show_default=True, help="Where the app is served.")
def feed_url_command(username, project_id, base_url):
    """Print USERNAME's subscription URL."""
    from app.auth.models import User
    from app.calendar_sync import feeds
    from app.extensions import db
    from app.projects.services import get_project

    user = User.by_login(username)
    if user is None:
        raise click.ClickException(f"No user {username!r}.")
    project = get_project(user, project_id) if project_id is not None else None
    feed = feeds.feed_for(user, project)
    db.session.commit()
    with current_app.test_request_context(base_url=base_url):
        click.echo(url_for("calendar_sync.feed", token=feed.token, _external=True))
