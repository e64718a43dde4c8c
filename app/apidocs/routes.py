"""/api/openapi.json and the reference page /developers/api."""

from __future__ import annotations

from flask import current_app, jsonify, render_template
from flask_login import login_required
from markupsafe import Markup

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
    return render_template("apidocs/reference.html", body=reference_body())


def reference_body() -> Markup:
    """The reference's content (every operation, ~90 KB), the same for every reader: it is
    built from the OpenAPI document, which depends only on the code, so it is rendered once
    per process and kept with the document. The page around it (navigation, the signed-in
    user, the CSRF token) is rendered per request, and the permission check above runs on
    every request. While templates reload on change (development), it is rendered afresh."""
    app = current_app._get_current_object()
    body = app.extensions.get("kibray.apidocs.body")
    if body is None:
        doc = document(app)
        # Straight from the environment: no context processors, so nothing of the request
        # or the user can reach the text that every reader is then given.
        template = app.jinja_env.get_template("apidocs/_reference_body.html")
        html = template.render(doc=doc, groups=operations_by_tag(doc), code=inline_code).lstrip()
        body = Markup(html)  # noqa: S704 - the output of an autoescaped .html template
        if not app.jinja_env.auto_reload:
            app.extensions["kibray.apidocs.body"] = body
    return body
