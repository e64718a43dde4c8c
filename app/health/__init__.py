"""Health checks for the platform: /health/, /api/health/db/, /api/health/redis/."""

from flask import Blueprint

from app.core.features import Feature, PeriodicJob

bp = Blueprint("health", __name__)

from app.health import routes  # noqa: E402

feature = Feature(
    name="health",
    blueprints=(bp,),
    api=(routes.api,),
    periodic=(PeriodicJob("check-capacity", "workers.monitoring.check_capacity", 60),),
    walk_skip=("/health/", "/api/health/db/", "/api/health/redis/"),  # public probes (tests/test_health.py)
)
