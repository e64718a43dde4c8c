"""The client portal (issue 9): what a client's user sees on signing in — their company's
projects with status and progress, the photos approved for them, the documents shared
with them and the conversation with the team — redrawn live. Every read goes through
the owning feature's visibility rules (photos.queries.visible, comments' client thread)."""

from flask import Blueprint

from app.core.features import Feature, Widget
from app.core.roles import CLIENT

bp = Blueprint("portal", __name__)

from app.portal import queries, routes, walk  # noqa: E402,F401

feature = Feature(
    name="portal",
    blueprints=(bp,),
    widgets=(Widget("portal/_home_widget.html", order=1, roles=(CLIENT,), context=queries.portal_home),),
    walk=walk.ROUTES,
)
