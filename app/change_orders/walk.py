"""The change orders' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
World (tests/factories.make_walk_change_orders): {draftco} a PM's draft; {internalco} a
trainee's waiting for a PM; {clientco} waiting for the client; {approvedco} approved,
3 days of schedule impact (all of mine); {theirco} of another company's project. The
client sees only what is put to them (never a draft or one waiting inside: 404)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

API = "/api/change-orders/"


def _form(world):
    return {
        "project_id": str(world.mine.id),
        "title": "Rot repair at the porch",
        "description": "Replace two boards",
        "reason": "Found when scraping",
        "schedule_impact_days": "2",
        "line_kind": ["labor", "materials", "labor"],
        "line_description": ["Carpentry", "Cedar boards", ""],
        "line_quantity": ["4", "2", ""],
        "line_unit_cost": ["60.00", "35.50", ""],
        "line_markup_pct": ["15", "10", ""],
    }


def _decision(_world):
    return {"signature_name": "Dana Owner", "on_behalf_reason": "Signed on paper on site", "comment": ""}


def _layer(_world):
    """A drawing as the browser sends it: a transparent PNG (a fresh stream each time)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (4, 3), (224, 36, 36, 0)).save(out, "PNG")
    return {"layer": (io.BytesIO(out.getvalue()), "drawing.png")}


def _api_new(world):
    return {
        "project_id": world.mine.id,
        "title": "Extra primer",
        "line_items": [{"kind": "materials", "description": "Primer", "quantity": "2", "unit_cost": "41.00"}],
    }


ROUTES = (
    R("GET", "/projects/{mine}/change-orders", "200 200 200 403 403 403 200"),
    R("GET", "/projects/{theirs}/change-orders", "200 404 404 403 403 403 404"),
    R("GET", "/change-orders/{draftco}", "200 200 200 403 403 403 404"),
    R("GET", "/change-orders/{internalco}", "200 200 200 403 403 403 404"),
    R("GET", "/change-orders/{clientco}", "200 200 200 403 403 403 200"),
    R("GET", "/change-orders/{theirco}", "200 404 404 403 403 403 404"),
    R("GET", "/change-orders/new?project_id={mine}", "200 200 200 403 403 403 403"),
    R("GET", "/change-orders/new?project_id={theirs}", "200 404 404 403 403 403 403"),
    R("POST", "/change-orders/new", "303 303 303 403 403 403 403", _form),
    R("GET", "/change-orders/{draftco}/edit", "200 200 200 403 403 403 403"),
    R("POST", "/change-orders/{draftco}/edit", "303 303 303 403 403 403 403", _form),
    R("POST", "/change-orders/{draftco}/submit", "303 303 303 403 403 403 403"),
    R("POST", "/change-orders/{internalco}/approve", "303 303 403 403 403 403 404", lambda _w: {"comment": "OK"}),
    R("POST", "/change-orders/{clientco}/approve", "303 303 403 403 403 403 303", _decision),
    R("POST", "/change-orders/{clientco}/reject", "303 303 403 403 403 403 303", _decision),
    R("POST", "/change-orders/{draftco}/delete", "303 303 403 403 403 403 403"),
    R("POST", "/change-orders/{approvedco}/schedule", "303 303 303 403 403 403 403"),
    R("POST", "/change-orders/{approvedco}/tasks", "303 303 303 403 403 403 403"),
    # photos and drawings ({cophoto} on the draft, {clientphoto} with a drawing on {clientco})
    R(
        "POST",
        "/change-orders/{draftco}/photos",
        "303 303 303 403 403 403 403",
        lambda w: {"photo_ids": [str(w.sharedpic.id)]},
    ),  # fmt: skip
    R("GET", "/change-orders/{draftco}/photos/{cophoto}/draw", "200 200 200 403 403 403 403"),
    R("POST", "/change-orders/{draftco}/photos/{cophoto}/drawing", "200 200 200 403 403 403 403", _layer),
    R("POST", "/change-orders/{draftco}/photos/{cophoto}/remove", "303 303 303 403 403 403 403"),
    R("GET", "/change-orders/{draftco}/photos/{cophoto}/image", "200 200 200 403 403 403 404"),
    R("GET", "/change-orders/{clientco}/photos/{clientphoto}/image", "200 200 200 403 403 403 200"),
    R("GET", "/change-orders/{clientco}/photos/{clientphoto}/image?layer=drawing", "200 200 200 403 403 403 200"),
    # the JSON API
    R("GET", API, "200 200 200 403 403 403 200"),
    R("POST", API, "201 201 201 403 403 403 403", _api_new),
    R("GET", API + "{draftco}/", "200 200 200 403 403 403 404"),
    R("GET", API + "{clientco}/", "200 200 200 403 403 403 200"),
    R("GET", API + "{theirco}/", "200 404 404 403 403 403 404"),
    R("PATCH", API + "{draftco}/", "200 200 200 403 403 403 404", lambda _w: {"title": "Extra coat, hall"}),
    R("PUT", API + "{draftco}/", "200 200 200 403 403 403 404", lambda _w: {"schedule_impact_days": 1}),
    R("DELETE", API + "{draftco}/", "200 200 403 403 403 403 404"),
    R("POST", API + "{draftco}/submit/", "200 200 200 403 403 403 404"),
    R("POST", API + "{clientco}/approve/", "200 200 403 403 403 403 200", _decision),
    R("POST", API + "{clientco}/reject/", "200 200 403 403 403 403 200", _decision),
)
