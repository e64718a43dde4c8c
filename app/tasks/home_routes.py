"""The tasks' home-page cards as fragments (app/tasks/widgets.py). The home page holds a
wrapper per card that fetches its fragment once loaded and again on every task event
(templates/tasks/_home_*_widget.html); opened as a page (no JavaScript, a bookmark) the
same route answers the card inside the layout. Each is refused (403) to the roles whose
home does not carry it, whatever else they may see."""

from __future__ import annotations

from functools import wraps

from flask import abort, render_template
from flask_login import current_user, login_required

from app.core.htmx import wants_fragment
from app.core.permissions import permission_required, signed_in_user
from app.tasks import bp, widgets
from app.tasks.models import STATUS_LABELS


def _for_roles(roles):
    """Route decorator: 403 unless the signed-in user's role gets this card."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _card(template: str, title: str, **context):
    """The card alone for the home page's wrapper (or a live refresh), else as a page."""
    context = {"status_labels": STATUS_LABELS, **context}
    if wants_fragment():
        return render_template(template, **context)
    return render_template("tasks/home_card.html", card=template, title=title, **context)


@bp.get("/tasks/home/crews")
@login_required
@permission_required("task.view")
@_for_roles(widgets.CREW_ROLES)
def home_crews():
    return _card("tasks/_home_crews.html", "Today's crews", crews=widgets.crews(signed_in_user()))


@bp.get("/tasks/home/attention")
@login_required
@permission_required("task.view")
@_for_roles(widgets.PROJECT_ROLES)
def home_attention():
    return _card("tasks/_home_attention.html", "Needs attention", attention=widgets.attention(signed_in_user()))


@bp.get("/tasks/home/company")
@login_required
@permission_required("task.view")
@_for_roles(widgets.COMPANY_ROLES)
def home_company():
    return _card("tasks/_home_company.html", "The company today", counts=widgets.company_counts(signed_in_user()))
