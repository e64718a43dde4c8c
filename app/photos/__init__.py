"""Photos (issue 9): galleries per project, task and daily log — thumbnails, a viewer,
captions, tags, before/after pairs — internal until an admin or PM approves them for the
client. Stored privately through core.storage; see docs/architecture.md, "Photos"."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent

bp = Blueprint("photos", __name__)

from app.photos import models, routes, walk  # noqa: E402,F401
from app.photos.api import bp as api_bp  # noqa: E402

_LIST = ("kibray:photos",)

feature = Feature(
    name="photos",
    blueprints=(bp,),
    api=(api_bp,),
    live_events=(
        LiveEvent("photo-added", dom=_LIST),
        LiveEvent("photo-updated", dom=_LIST),
        LiveEvent("photo-removed", dom=_LIST),  # deleted, or no longer shown to this listener
    ),
    audit_refusals={
        "photos.upload": "add photos to the project {project}",
        "photos.approve_many": "approve photos for the client",
        "photos.delete": "delete a photo",
        "api.photos.api_upload": "add a photo",
        "api.photos.api_approve": "approve a photo for the client",
        "api.photos.api_delete": "delete a photo",
    },
    walk=walk.ROUTES,
    walk_skip=walk.SKIP,
)
