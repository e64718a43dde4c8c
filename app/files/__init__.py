"""files (issue 9): project and client documents — versions, sharing with the client,
uploads judged by content, downloads only through an authorising route. See
docs/architecture.md "Documents"."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent

bp = Blueprint("files", __name__)

from app.files import routes, services, walk  # noqa: E402,F401 - the routes register on bp
from app.files.api import bp as api_bp  # noqa: E402

_LIST = ("kibray:documents",)

feature = Feature(
    name="files",
    blueprints=(bp,),
    api=(api_bp,),
    live_events=(
        LiveEvent("document-added", dom=_LIST),  # a new name
        LiveEvent("document-updated", dom=_LIST),  # a new version, shared or no longer
        LiveEvent("document-removed", dom=_LIST),  # deleted, or no longer shown to this listener
    ),
    audit_refusals={
        "files.project_upload": "upload a document",
        "files.client_upload": "upload a client document",
        "files.share": "share a document with the client",
        "files.unshare": "stop sharing a document with the client",
        "files.delete": "delete a document",
        "api.files.api_upload": "upload a document",
        "api.files.api_share": "share a document with the client",
        "api.files.api_unshare": "stop sharing a document with the client",
        "api.files.api_delete": "delete a document",
    },
    walk=walk.ROUTES,
    init_app=services.install_cleanup,
)
