"""photos (issue 9): being built; see docs/architecture.md."""

from flask import Blueprint

from app.core.features import Feature

bp = Blueprint("photos", __name__)

feature = Feature(name="photos", blueprints=(bp,))
