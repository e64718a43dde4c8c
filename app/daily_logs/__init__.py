"""daily_logs (issue 9): being built; see docs/architecture.md."""

from flask import Blueprint

from app.core.features import Feature

bp = Blueprint("daily_logs", __name__)

feature = Feature(name="daily_logs", blueprints=(bp,))
