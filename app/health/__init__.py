"""Health checks for the platform: /health/, /api/health/db/, /api/health/redis/, and the
capacity check (SPEC.md §4): the periodic job `check-capacity` and `flask capacity-check`."""

from flask import Blueprint

from app.core.features import Feature, PeriodicJob

bp = Blueprint("health", __name__)

from app.health import routes  # noqa: E402
from app.health.cli import capacity_command  # noqa: E402

feature = Feature(
    name="health",
    blueprints=(bp,),
    api=(routes.api,),
    commands=(capacity_command,),  # the same check on demand: `flask capacity-check`
    periodic=(PeriodicJob("check-capacity", "workers.monitoring.check_capacity", 60),),
    walk_skip=("/health/", "/api/health/db/", "/api/health/redis/"),  # public probes (tests/test_health.py)
)
