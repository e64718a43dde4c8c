"""/api/calendar/events/ (SPEC.md §4–5). Routes translate HTTP; the rules are the
service's (app/calendar/services.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calendar", __name__)
