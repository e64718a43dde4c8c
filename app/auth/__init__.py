"""Sign-in: pages, server-side sessions, login throttling and the JSON API's tokens."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import api, routes  # noqa: E402,F401
