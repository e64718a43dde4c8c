"""The photos' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
{pic}: an internal photo of `mine` taken by the superintendent; {sharedpic}: one of
`mine` approved for the client; {theirpic}: one of `theirs` (another company's)."""

from __future__ import annotations

from app.core.features import WalkRoute as R


def _file(_world):
    """A small PNG, as a phone's camera would send it (a fresh stream for each request)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 120, 40)).save(out, "PNG")
    return {"file": (io.BytesIO(out.getvalue()), "site.png"), "caption": "North wall"}


ROUTES = (
    R("GET", "/projects/{mine}/photos", "200 200 200 200 200 404 200"),
    R("GET", "/projects/{mine}/photos?embed=strip", "200 200 200 200 200 404 200"),
    R("GET", "/projects/{theirs}/photos", "200 404 404 404 404 404 404"),
    R("POST", "/projects/{mine}/photos", "303 303 303 303 303 303 303", _file),
    R("POST", "/projects/{theirs}/photos", "303 404 404 404 404 404 404", _file),
    R("POST", "/projects/{mine}/photos/approve", "303 303 403 403 403 403 403", lambda w: {"ids": [w.pic.id]}),
    R("GET", "/tasks/{task}/photos", "200 200 200 404 200 200 403"),
    R("GET", "/tasks/{their_task}/photos", "200 404 404 404 404 404 403"),
    R("GET", "/photos/{pic}", "200 200 200 200 200 404 404"),
    R("GET", "/photos/{sharedpic}", "200 200 200 200 200 404 200"),
    R("GET", "/photos/{theirpic}", "200 404 404 404 404 404 404"),
    R("GET", "/photos/{pic}/image?size=thumb", "200 200 200 200 200 404 404"),
    R("GET", "/photos/{sharedpic}/image?size=original", "200 200 200 200 200 404 200"),
    R("GET", "/photos/{theirpic}/image", "200 404 404 404 404 404 404"),
    R("GET", "/photos/{theirpic}/image?size=original", "200 404 404 404 404 404 404"),
    R("POST", "/photos/{pic}/edit", "303 303 403 403 303 404 404", {"caption": "South wall", "tags": "trim"}),
    R("POST", "/photos/{pic}/approve", "303 303 403 403 403 403 403"),
    R("POST", "/photos/{sharedpic}/unapprove", "303 303 403 403 403 403 403"),
    R("POST", "/photos/{pic}/pair", "303 303 403 403 303 404 404", lambda w: {"pair_id": w.sharedpic.id}),
    R("POST", "/photos/{pic}/delete", "303 403 403 403 403 403 403"),
    R("POST", "/photos/{theirpic}/delete", "303 403 403 403 403 403 403"),
    R("GET", "/api/photos/", "200 200 200 200 200 200 200"),
    R("GET", "/api/photos/?project_id={theirs}", "200 200 200 200 200 200 200"),  # an empty list
    R("GET", "/api/photos/{pic}/", "200 200 200 200 200 404 404"),
    R("GET", "/api/photos/{sharedpic}/", "200 200 200 200 200 404 200"),
    R("GET", "/api/photos/{theirpic}/", "200 404 404 404 404 404 404"),
    R("PATCH", "/api/photos/{pic}/", "200 200 403 403 200 404 404", {"caption": "South wall"}),
    R("POST", "/api/photos/{pic}/approve/", "200 200 403 403 403 403 403"),
    R("POST", "/api/photos/{sharedpic}/unapprove/", "200 200 403 403 403 403 403"),
    R("POST", "/api/projects/{mine}/photos/approve/", "200 200 403 403 403 403 403", lambda w: {"ids": [w.pic.id]}),
    R("DELETE", "/api/photos/{pic}/", "200 403 403 403 403 403 403"),
)
# Not walked here: POST /api/photos/ (multipart, which the walk's JSON requests cannot send)
# and POST /projects/<id>/photos/direct (it hands out a form and writes nothing) — both are
# tested for every role in tests/test_photos.py.
SKIP = ("/projects/<int:project_id>/photos/direct",)
