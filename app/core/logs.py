"""Structured logs on stdout, and Sentry when SENTRY_DSN is set."""

from __future__ import annotations

import logging
import sys

from flask import Flask


def init_app(app: Flask) -> None:
    _configure_logging(app)
    _configure_sentry(app)


def _configure_logging(app: Flask) -> None:
    """Structured (key=value) logs to stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"))
    root = logging.getLogger()
    if not any(getattr(h, "_kibray", False) for h in root.handlers):
        handler._kibray = True
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])


def _configure_sentry(app: Flask) -> None:
    if app.config.get("SENTRY_DSN"):
        import sentry_sdk
        from sentry_sdk.integrations.flask import FlaskIntegration
        from sentry_sdk.integrations.rq import RqIntegration

        sentry_sdk.init(
            dsn=app.config["SENTRY_DSN"],
            environment=app.config["APP_ENV"],
            integrations=[FlaskIntegration(), RqIntegration()],
            send_default_pii=False,
            traces_sample_rate=0.0,
        )
