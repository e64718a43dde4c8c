"""Small helpers for answering htmx requests."""

from __future__ import annotations

from flask import make_response, redirect, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def redirect_to(url: str):
    """After a successful POST: htmx navigates the whole page (and history) to `url`;
    a plain browser gets a 303."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Location"] = url
        return response
    return redirect(url, 303)
