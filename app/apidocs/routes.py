"""/api/openapi.json and the reference page /developers/api."""

from __future__ import annotations

from flask import jsonify, render_template
from flask_login import login_required

from app.apidocs import api, bp
from app.apidocs.reference import inline_code, operations_by_tag
from app.core.api import public
from app.core.openapi import document, operation
from app.core.permissions import permission_required


@api.get("/openapi.json")
@public
@operation("This document: the API as OpenAPI 3.1", raw=True)
def openapi_json():
    """Public, as integrators' tooling fetches it before it has a token; it holds the
    API's shape, nothing of anyone's data."""
    return jsonify(document())


@bp.get("/api")
@login_required
@permission_required("api.reference")
def reference():
    doc = document()
    return render_template("apidocs/reference.html", doc=doc, groups=operations_by_tag(doc), code=inline_code)
