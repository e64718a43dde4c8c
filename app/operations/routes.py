"""GET /admin/operations: the operations page (admins only). It redraws its sections when
the evaluator's live event `operations-changed` arrives (an htmx GET of this same page)."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from app.core.permissions import permission_required
from app.operations import bp
from app.operations import services as operations


@bp.get("/")
@login_required
@permission_required("settings.manage")
def index():
    return render_template("operations/index.html", **operations.page(current_user))
