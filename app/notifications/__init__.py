"""In-app notifications: the bell, the list, mark as read."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from app.notifications import routes  # noqa: E402,F401
