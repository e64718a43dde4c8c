"""Client companies: contacts, billing details, their users and projects."""

from flask import Blueprint

bp = Blueprint("clients", __name__)

from app.clients import api, routes  # noqa: E402,F401
