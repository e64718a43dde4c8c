"""Health checks for the platform: /health/, /api/health/db/, /api/health/redis/, and the
capacity check (SPEC.md §4) on demand: `flask capacity-check`. The same limits are alert
rules of app/operations, evaluated every minute by its periodic job `operations-alerts`."""

from flask import Blueprint

from app.core.features import Feature

bp = Blueprint("health", __name__)

from app.health import metrics, routes  # noqa: E402, F401 - metrics: GET /metrics
from app.health.cli import capacity_command  # noqa: E402

feature = Feature(
    name="health",
    blueprints=(bp,),
    api=(routes.api,),
    commands=(capacity_command,),  # the same check on demand: `flask capacity-check`
    # public probes (tests/test_health.py); /metrics takes bearer tokens only, walked for
    # every role's token in tests/test_metrics.py
    walk_skip=("/health/", "/api/health/db/", "/api/health/redis/", "/metrics"),
)
