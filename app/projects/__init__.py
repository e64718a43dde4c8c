"""Projects: the job at a site, its client, team, dates and budget."""

from flask import Blueprint

bp = Blueprint("projects", __name__)

from app.projects import api, routes  # noqa: E402,F401
