"""Server-sent events: GET /events streams live changes to the signed-in user."""

from flask import Blueprint

bp = Blueprint("events", __name__)

from app.events import routes  # noqa: E402,F401
