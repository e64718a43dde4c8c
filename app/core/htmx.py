"""Small helpers for answering htmx requests."""

from __future__ import annotations

from flask import after_this_request, make_response, redirect, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def hx_target() -> str:
    """The region an htmx request will swap (`HX-Target`); the response then says
    `Vary: HX-Target`, since it depends on that header."""
    after_this_request(_vary_on_target)
    return request.headers.get("HX-Target", "")


def _vary_on_target(response):
    response.vary.add("HX-Target")
    return response


def render_for(targets: dict[str, str], full_template: str, status: int = 200, **context):
    """Render the fragment named for the request's `HX-Target` (an htmx swap of that
    region), else the whole page; `Vary: HX-Target` so caches keep the two apart.
    Only HX-Target is read: a boosted link targets <body> and gets the whole page."""
    template = targets.get(hx_target(), full_template)
    return make_response(render_template(template, **context), status)


class lazy:
    """A list computed only if a template iterates it — for context only the whole page
    uses (filter choices), so a fragment swap does not pay for it."""

    def __init__(self, load):
        self._load, self._items = load, None

    def __iter__(self):
        if self._items is None:
            self._items = list(self._load())
        return iter(self._items)


def redirect_to(url: str):
    """After a successful POST: htmx navigates the whole page (and history) to `url`;
    a plain browser gets a 303."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Location"] = url
        return response
    return redirect(url, 303)
