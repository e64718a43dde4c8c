"""The live stream (server-sent events): GET /events streams live changes to the signed-in user."""

from flask import Blueprint

from app.core.features import Feature

bp = Blueprint("live", __name__)

from app.live import routes  # noqa: E402,F401

feature = Feature(
    name="live",
    blueprints=(bp,),
    walk_skip=("/events",),  # a stream: audience per role in tests/test_events.py
)
