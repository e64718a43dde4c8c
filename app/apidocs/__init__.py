"""The API describes itself: `/api/openapi.json` (OpenAPI 3.1, built from the endpoints'
declarations by app/core/openapi.py) and its readable reference for signed-in staff
(`/developers/api`)."""

from flask import Blueprint

from app.core.features import Feature
from app.core.openapi_store import cli as openapi_command

bp = Blueprint("apidocs", __name__, url_prefix="/developers")
api = Blueprint("apidocs", __name__)

from app.apidocs import routes, walk  # noqa: E402,F401

feature = Feature(
    name="apidocs",
    blueprints=(bp,),
    api=(api,),
    walk=walk.ROUTES,
    commands=(openapi_command,),  # `flask openapi write`: the document stored at deploy time
    walk_skip=("/api/openapi.json",),  # public, like any API description (tests/test_openapi.py)
)
