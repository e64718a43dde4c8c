"""What every template may use: `can()`, role labels, the navigation and the live event
names the features registered, and the money/status/date filters."""

from __future__ import annotations

import json

from flask import Flask, url_for

from app.core import features


def init_app(app: Flask) -> None:
    from app.core.money import to_money
    from app.core.permissions import template_can
    from app.core.roles import ROLE_LABELS

    nav = features.nav_entries(app)
    live_events = json.dumps(features.live_events(app), separators=(",", ":"), sort_keys=True)
    app.jinja_env.globals.update(
        can=template_can,
        ROLE_LABELS=ROLE_LABELS,
        app_env=app.config["APP_ENV"],
        nav_entries=lambda: [entry for entry in nav if entry.permission is None or template_can(entry.permission)],
        nav_href=lambda entry: entry.url or url_for(entry.endpoint),
        live_events=live_events,
    )

    @app.template_filter("money")
    def money(value):
        """$12,345.60 — formatted from the Decimal, never through a float."""
        if value is None:
            return "—"
        return f"${to_money(value):,}"

    @app.template_filter("status_label")
    def status_label(status):
        """A project status in the contractor's words."""
        return {"created": "not started", "active": "active", "closed": "closed"}.get(status, status)

    @app.template_filter("date")
    def fmt_date(value):
        return value.strftime("%b %d, %Y").replace(" 0", " ") if value else "—"
