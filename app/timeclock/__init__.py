"""timeclock (issue 9): being built; see docs/architecture.md."""

from flask import Blueprint

from app.core.features import Feature

bp = Blueprint("timeclock", __name__)

feature = Feature(name="timeclock", blueprints=(bp,))
