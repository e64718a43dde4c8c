"""Comments on tasks and projects, with safe Markdown and @mentions that notify."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent

bp = Blueprint("comments", __name__)

from app.comments import models, routes, walk  # noqa: E402,F401

_LIST = ("kibray:comments",)

feature = Feature(
    name="comments",
    blueprints=(bp,),
    live_events=(
        LiveEvent("comment-created", dom=_LIST),
        LiveEvent("comment-updated", dom=_LIST),
        LiveEvent("comment-deleted", dom=_LIST),
    ),
    notification_kinds=("client_comment",),  # a client wrote on their project's thread
    walk=walk.ROUTES,
    walk_skip=(
        "/comments/<int:comment_id>/edit",  # own comments, 15 minutes (tests/test_comments.py)
        "/comments/<int:comment_id>/delete",  # own comments, 15 minutes (tests/test_comments.py)
    ),
)
