"""Health checks for the platform: /health/, /api/health/db/, /api/health/redis/."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from app.health import routes  # noqa: E402,F401
