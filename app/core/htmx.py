"""Small helpers for answering htmx requests."""

from __future__ import annotations

from flask import after_this_request, make_response, redirect, render_template, request

HX_REQUEST, HX_BOOSTED, HX_TARGET = "HX-Request", "HX-Boosted", "HX-Target"
BACKGROUND = "X-Kibray-Background"  # set by app.js on fragments fetched after a live event
FRAGMENT_HEADERS = (HX_REQUEST, HX_BOOSTED, HX_TARGET, BACKGROUND)
_VARY_KEY = "kibray.vary"  # the request's set of headers its response varies on


def vary(*headers: str) -> None:
    """The response to this request depends on `headers`: say so in `Vary` (whatever the
    response turns out to be — a page, a fragment, an error page), so caches keep the
    answers apart. One after-this-request hook per request writes them all."""
    names = request.environ.get(_VARY_KEY)
    if names is None:
        names = request.environ[_VARY_KEY] = set()

        @after_this_request
        def _add_vary(response):
            for name in sorted(names):
                response.vary.add(name)
            return response

    names.update(headers)


def is_htmx() -> bool:
    """Is this an htmx request? (`Vary: HX-Request`, since the answer depends on it.)"""
    vary(HX_REQUEST)
    return request.headers.get(HX_REQUEST) == "true"


def hx_target() -> str:
    """The region an htmx request will swap (`HX-Target`); the response then says
    `Vary: HX-Target`, since it depends on that header."""
    vary(HX_TARGET)
    return request.headers.get(HX_TARGET, "")


def wants_fragment() -> bool:
    """Does this request swap part of a page — an htmx request aimed at an element (not a
    boosted navigation, nor an HX-Location swap of the whole body), or a background
    refresh after a live event? Then an answer must never be a whole page (second top bar
    and footer). The response varies on every header this reads."""
    vary(*FRAGMENT_HEADERS)
    headers = request.headers
    if headers.get(BACKGROUND) == "1":
        return True
    return headers.get(HX_REQUEST) == "true" and headers.get(HX_BOOSTED) != "true" and bool(headers.get(HX_TARGET))


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
