"""The calendar's pages: month, week, day and crew views (server-rendered, swapped by htmx)."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from app.calendar import bp
from app.core.permissions import require


@bp.get("/calendar/")
@login_required
def index():
    require(current_user, "calendar.view")
    return render_template("calendar/index.html")
