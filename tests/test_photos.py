"""Photos (issue 9): galleries per project and task, uploads judged by content (several
at once, or one a request with a JSON answer each), the client's approval one by one or
in bulk and its withdrawal, captions, tags and before/after pairs, admin-only deletion
that keeps a record, who sees what — the other company's client never anything — and
the live events that tell each open page."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.core import storage
from app.photos import queries, services
from app.photos.models import Photo
from app.tasks import services as tasks
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user
from tests.images import jpeg_with_location, png
from tests.test_events import open_stream  # noqa: F401 - the fixture, used by name
from tests.test_live_audience import receivers
from tests.test_storage import on_s3, s3_server  # noqa: F401 - the fixtures, used by name

PNG = png()


@pytest.fixture()
def site(db):
    company = make_client(name="Harbor Holdings")
    pm, trainee, designer, sup = (
        make_user("project_manager_full", full_name="Paula PM"),
        make_user("pm_trainee"),
        make_user("designer"),
        make_user("superintendent", full_name="Sam Super"),
    )
    painter, other_painter = make_user("employee", full_name="Pat Painter"), make_user("employee")
    owner, stranger = make_user("client", client=company), make_user("client")
    admin, outsider_pm = make_user("admin"), make_user("project_manager_full")
    project = make_project(client=company, members=[pm, trainee, designer, sup], name="Harbor lofts")
    task = tasks.create_task(pm, project, {"title": "Prime walls"}, [painter.id])
    people = {
        "admin": admin,
        "pm": pm,
        "trainee": trainee,
        "designer": designer,
        "sup": sup,
        "painter": painter,
        "other_painter": other_painter,
        "owner": owner,
        "stranger": stranger,
        "outsider_pm": outsider_pm,
    }
    return project, task, people


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Photo))


def test_several_photos_in_one_form_each_judged_by_its_content(client, db, login_as, site):
    project, task, p = site
    login_as(p["sup"])
    files = [(io.BytesIO(PNG), "wall.png"), (io.BytesIO(b"\x7fELF\x02\x01\x01" + b"\0" * 64), "invoice.png")]
    answer = client.post(
        f"/projects/{project.id}/photos",
        data={"file": files, "caption": "North wall", "tags": "Kitchen, trim, kitchen", "task_id": str(task.id)},
    )
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).text
    assert "1 photo added." in page and "invoice.png: Choose a photo" in page
    photo = db.session.scalars(select(Photo)).one()
    assert (photo.caption, photo.tags, photo.task_id) == ("North wall", ["kitchen", "trim"], task.id)
    assert photo.uploaded_by_id == p["sup"].id and not photo.is_client_visible and not photo.client_provided
    assert photo.storage_key.startswith(f"photos/{project.id}/") and "wall" not in photo.storage_key
    assert f'src="/photos/{photo.id}/image?size=thumb"' in page


def test_one_file_a_request_answers_json_for_the_progress_bars(client, db, login_as, site):
    project, _task, p = site
    login_as(p["pm"])
    url, header = f"/projects/{project.id}/photos", {"X-Kibray-Upload": "1"}
    ok = client.post(url, data={"file": (io.BytesIO(PNG), "a.png")}, headers=header)
    assert ok.status_code == 200 and ok.json["ok"] is True
    assert ok.json["thumbnail"] == f"/photos/{ok.json['id']}/image?size=thumb"
    for data, message in (
        ({"file": (io.BytesIO(b""), "empty.jpg")}, "The file is empty."),
        ({"file": (io.BytesIO(b'<svg onload="alert(1)"/>'), "logo.svg")}, "Choose a photo"),
        ({"file": (io.BytesIO(b"GIF89a" + b"\0" * 20), "x.gif")}, "JPEG, PNG, WebP or HEIC"),
        ({}, "Choose one or more photos to add."),
    ):
        bad = client.post(url, data=data, headers=header)
        assert bad.status_code == 422 and message in bad.json["error"], bad.json
    assert _count(db) == 1


# werkzeug's test client spools a body over 500 KB to a temporary file it never closes;
# collected here (below), its warning is about the test's own request, not the app.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning")
def test_an_oversize_photo_is_refused_without_reading_all_of_it(client, db, login_as, site, app, monkeypatch):
    project, _task, p = site
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PHOTO_MB", 1)
    login_as(p["pm"])
    big = b"\xff\xd8\xff" + b"\0" * (3 * 1024 * 1024)
    answer = client.post(
        f"/projects/{project.id}/photos", data={"file": (io.BytesIO(big), "huge.jpg")}, headers={"X-Kibray-Upload": "1"}
    )
    assert answer.status_code == 422 and "larger than 1 MB" in answer.json["error"]
    assert _count(db) == 0
    import gc

    del answer  # its request holds the spooled body
    gc.collect()


def test_the_location_is_removed_and_the_file_name_never_reaches_a_key(client, db, login_as, site, app):
    project, _task, p = site
    login_as(p["pm"])
    answer = client.post(
        f"/projects/{project.id}/photos",
        data={"file": (io.BytesIO(jpeg_with_location()), "../../etc/passwd.jpg")},
        headers={"X-Kibray-Upload": "1"},
    )
    assert answer.status_code == 200
    photo = db.session.get(Photo, answer.json["id"])
    from PIL import Image

    with app.app_context():
        stored = Image.open(io.BytesIO(storage.read(photo.storage_key)))
    assert 0x8825 not in stored.getexif()  # no GPS block
    assert "passwd" not in photo.storage_key
    shown = client.get(f"/photos/{photo.id}/image?size=original")
    assert (
        "passwd" not in shown.headers["Content-Disposition"]
        and "Harbor lofts photo" in shown.headers["Content-Disposition"]
    )


def test_who_may_add_photos_where(db, site):
    project, task, p = site
    closed = make_project(client=project.client, members=[p["pm"]], status="closed")
    other = make_project(client=project.client)
    assert all(services.may_upload(p[w], project) for w in ("admin", "pm", "trainee", "designer", "sup", "owner"))
    assert services.may_upload(p["painter"], project) and services.may_upload(p["painter"], project, task)
    assert not services.may_upload(p["other_painter"], project)  # no task of theirs there
    assert not services.may_upload(p["stranger"], project) and not services.may_upload(p["outsider_pm"], project)
    assert not services.may_upload(p["pm"], closed) and not services.may_upload(p["admin"], closed)
    assert not services.may_upload(p["pm"], other, task)  # a task of another project
    assert not services.may_upload(p["owner"], project, task)  # clients file under the project only


def test_a_client_sees_approved_and_own_photos_of_their_projects_only(client, db, login_as, site):
    project, _task, p = site
    internal = services.add(p["sup"], project, PNG, caption="Primer")
    shared = services.add(p["sup"], project, PNG, caption="Hallway done")
    services.set_client_visible(p["pm"], [shared], True)
    theirs = services.add(p["owner"], project, PNG, caption="Our colour idea")
    assert theirs.client_provided and theirs.is_client_visible
    db.session.commit()
    login_as(p["owner"])
    page = client.get(f"/projects/{project.id}/photos").text
    assert "Hallway done" in page and "Our colour idea" in page and "Primer" not in page
    assert "Sam Super" not in page  # no crew names for the client
    assert client.get(f"/photos/{internal.id}").status_code == 404
    assert client.get(f"/photos/{internal.id}/image").status_code == 404
    assert client.get(f"/photos/{shared.id}/image?size=thumb").status_code == 200
    login_as(p["stranger"])  # another company's client: nothing exists
    for url in (
        f"/photos/{shared.id}",
        f"/photos/{shared.id}/image",
        f"/photos/{shared.id}/image?size=thumb",
        f"/photos/{shared.id}/image?size=web",
        f"/photos/{shared.id}/image?size=original",
        f"/projects/{project.id}/photos",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/api/photos/{shared.id}/", headers=bearer(client, p["stranger"])).status_code == 404
    listed = client.get(f"/api/photos/?project_id={project.id}", headers=bearer(client, p["stranger"]))
    assert listed.json["data"]["results"] == []


def test_an_employee_sees_their_own_photos_not_the_rest_of_the_gallery(client, db, login_as, site):
    project, task, p = site
    mine = tasks.add_photo(p["painter"], task, PNG, caption="Ceiling patched")
    others = services.add(p["sup"], project, PNG)
    db.session.commit()
    login_as(p["painter"])
    assert client.get(f"/photos/{mine.id}").status_code == 200
    assert client.get(f"/photos/{others.id}").status_code == 404
    assert "Ceiling patched" in client.get(f"/tasks/{task.id}").text
    assert [x.id for x in db.session.scalars(queries.visible(p["painter"])).all()] == [mine.id]


def test_approval_one_by_one_in_bulk_and_withdrawn(client, db, login_as, site):
    project, _task, p = site
    a, b, c = (services.add(p["sup"], project, PNG, caption=f"Photo {n}") for n in "abc")
    db.session.commit()
    login_as(p["trainee"])  # sees them, may not approve
    assert client.post(f"/photos/{a.id}/approve").status_code == 403
    login_as(p["pm"])
    assert client.post(f"/photos/{a.id}/approve").status_code == 303
    bulk = client.post(f"/projects/{project.id}/photos/approve", data={"ids": [str(b.id), str(c.id)], "visible": "1"})
    assert bulk.status_code == 303 and "2 photos shown to the client." in client.get(bulk.headers["Location"]).text
    db.session.expire_all()
    assert all(db.session.get(Photo, x.id).is_client_visible for x in (a, b, c))
    assert db.session.get(Photo, a.id).approved_by_id == p["pm"].id
    assert client.post(f"/photos/{b.id}/unapprove").status_code == 303
    db.session.expire_all()
    assert not db.session.get(Photo, b.id).is_client_visible and db.session.get(Photo, b.id).approved_at is None
    # a photo of another project in the batch refuses the whole batch
    elsewhere = services.add(p["admin"], make_project(), PNG)
    db.session.commit()
    refused = client.post(f"/projects/{project.id}/photos/approve", data={"ids": [str(b.id), str(elsewhere.id)]})
    assert refused.status_code == 303 and "not in this gallery" in client.get(refused.headers["Location"]).text
    db.session.expire_all()
    assert not db.session.get(Photo, b.id).is_client_visible


def test_captions_tags_and_before_after_pairs(client, db, login_as, site):
    project, _task, p = site
    before = services.add(p["sup"], project, PNG, caption="Peeling trim")
    after = services.add(p["sup"], project, PNG, caption="New trim")
    db.session.commit()
    login_as(p["designer"])  # not the uploader, not an approver
    assert client.post(f"/photos/{before.id}/edit", data={"caption": "x"}).status_code == 403
    login_as(p["sup"])  # the one who took it
    saved = client.post(
        f"/photos/{before.id}/edit", data={"caption": "Peeling trim, north", "tags": "Trim, north", "version": "1"}
    )
    assert saved.status_code == 303
    stale = client.post(f"/photos/{before.id}/edit", data={"caption": "Old", "version": "1"})
    assert "changed meanwhile" in client.get(stale.headers["Location"]).text
    too_many = client.post(f"/photos/{before.id}/edit", data={"tags": ",".join(f"t{n}" for n in range(12))})
    assert "at most 10 tags" in client.get(too_many.headers["Location"]).text
    assert client.post(f"/photos/{before.id}/pair", data={"pair_id": str(after.id)}).status_code == 303
    db.session.expire_all()
    first, second = db.session.get(Photo, before.id), db.session.get(Photo, after.id)
    assert first.caption == "Peeling trim, north" and first.tags == ["trim", "north"]
    assert (first.phase, first.pair_id, second.phase, second.pair_id) == ("before", after.id, "after", before.id)
    gallery = client.get(f"/projects/{project.id}/photos").text
    assert 'data-testid="before-after"' in gallery
    grid = client.get(
        f"/projects/{project.id}/photos?tag=north", headers={"HX-Request": "true", "HX-Target": "photo-results"}
    ).text
    assert "Peeling trim, north" in grid and "New trim" not in grid and "<html" not in grid


def test_only_an_admin_deletes_and_the_record_stays(client, db, login_as, site, app):
    project, _task, p = site
    theirs = services.add(p["owner"], project, PNG, caption="From the owner")
    db.session.commit()
    key = theirs.storage_key
    for who in ("pm", "owner", "sup"):
        login_as(p[who])
        assert client.post(f"/photos/{theirs.id}/delete").status_code == 403
    login_as(p["admin"])
    assert client.post(f"/photos/{theirs.id}/delete").status_code == 303
    db.session.expire_all()
    gone = db.session.get(Photo, theirs.id)
    assert gone.deleted_at is not None and gone.deleted_by_id == p["admin"].id and not gone.is_client_visible
    with app.app_context():
        assert not storage.exists(key)
    assert client.get(f"/photos/{theirs.id}").status_code == 404
    from app.core.audit import AuditLog

    entries = db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "Photo", AuditLog.object_id == str(theirs.id))
    ).all()
    assert any("deleted_at" in (e.changes or {}) and e.user_id == p["admin"].id for e in entries)


def test_the_thumbnail_job_makes_both_copies_once(db, site, app):
    from PIL import Image

    from workers.media import make_photo_sizes

    project, _task, p = site
    photo = services.add(p["pm"], project, png(2000, 1000))
    assert make_photo_sizes(photo.id) is True and make_photo_sizes(photo.id) is False
    db.session.expire_all()
    photo = db.session.get(Photo, photo.id)
    with app.app_context():
        assert Image.open(io.BytesIO(storage.read(photo.thumb_key))).size == (320, 160)
        assert Image.open(io.BytesIO(storage.read(photo.web_key))).size == (1600, 800)


def test_the_gallery_page_reads_a_constant_number_of_statements(client, db, login_as, site, count_queries):
    project, _task, p = site
    for n in range(6):
        services.add(p["sup"], project, PNG, caption=f"Photo {n}")
    db.session.commit()
    login_as(p["pm"])
    client.get(f"/projects/{project.id}/photos")
    with count_queries() as few:
        client.get(f"/projects/{project.id}/photos", headers={"HX-Request": "true", "HX-Target": "photo-results"})
    for n in range(20):
        services.add(p["sup"], project, PNG, caption=f"More {n}")
    db.session.commit()
    client.get(f"/projects/{project.id}/photos")  # the list's count is read again once
    with count_queries() as many:
        client.get(f"/projects/{project.id}/photos", headers={"HX-Request": "true", "HX-Target": "photo-results"})
    assert many.n == few.n


@pytest.mark.parametrize(
    "action, expected",
    [
        ("add", {"admin", "pm", "trainee", "designer", "sup"}),
        ("approve", {"admin", "pm", "trainee", "designer", "sup", "owner"}),
    ],
)
def test_photo_events_reach_who_may_see_the_photo(db, open_stream, site, action, expected):  # noqa: F811
    project, _task, p = site
    people = {k: v for k, v in p.items() if k in ("admin", "pm", "trainee", "designer", "sup", "painter", "owner")}
    people["stranger"] = p["stranger"]
    if action == "add":
        got = receivers(db, open_stream, people, lambda: services.add(p["sup"], project, PNG), "photo-added", {})
    else:
        photo = services.add(p["sup"], project, PNG)
        db.session.commit()
        got = receivers(
            db,
            open_stream,
            people,
            lambda: services.set_client_visible(p["pm"], [photo], True),
            "photo-updated",
            {"id": photo.id},
        )
    assert got == expected


def test_a_withdrawn_approval_tells_the_client_to_drop_it(db, open_stream, site):  # noqa: F811
    project, _task, p = site
    photo = services.add(p["sup"], project, PNG)
    services.set_client_visible(p["pm"], [photo], True)
    db.session.commit()
    got = receivers(
        db,
        open_stream,
        {"owner": p["owner"], "pm": p["pm"]},
        lambda: services.set_client_visible(p["pm"], [photo], False),
        "photo-removed",
        {"id": photo.id},
    )
    assert got == {"owner"}


def test_a_direct_upload_to_s3_is_judged_then_its_object_removed(client, db, login_as, site, on_s3):  # noqa: F811
    """The presigned POST lets the browser put the photo into the bucket; the server then
    reads it back, judges it like any upload, stores its own copy and deletes the browser's."""
    import requests

    from tests.test_storage import _keys

    project, _task, p = site
    db.session.commit()
    login_as(p["sup"])
    form = client.post(f"/projects/{project.id}/photos/direct")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    post = form.json
    assert post["key"].startswith(f"incoming/photos/{project.id}/")
    sent = requests.post(post["url"], data=post["fields"], files={"file": ("x.png", PNG)}, timeout=10)
    assert sent.status_code in (200, 201, 204), sent.text
    assert _keys(on_s3) == [post["key"]]
    done = client.post(f"/projects/{project.id}/photos", data={"key": post["key"]}, headers={"X-Kibray-Upload": "1"})
    assert done.status_code == 200 and done.json["ok"], done.json
    photo = db.session.get(Photo, done.json["id"])
    assert _keys(on_s3) == [photo.storage_key]  # the browser's object is gone
    # a key the server did not hand out for this project is refused
    for key in ("photos/1/abc.png", f"incoming/photos/{project.id + 1}/{'a' * 32}.bin", "../x"):
        refused = client.post(f"/projects/{project.id}/photos", data={"key": key}, headers={"X-Kibray-Upload": "1"})
        assert refused.status_code == 422
    # not a photo: refused, and the browser's object deleted all the same
    post = client.post(f"/projects/{project.id}/photos/direct").json
    requests.post(post["url"], data=post["fields"], files={"file": ("x.png", b"\x7fELF" + b"\0" * 50)}, timeout=10)
    bad = client.post(f"/projects/{project.id}/photos", data={"key": post["key"]}, headers={"X-Kibray-Upload": "1"})
    assert bad.status_code == 422 and _keys(on_s3) == [photo.storage_key]


def test_direct_upload_is_offered_on_s3_only_and_to_who_may_upload(client, db, login_as, site):
    project, _task, p = site
    db.session.commit()
    expected = {"admin": 204, "pm": 204, "sup": 204, "painter": 204, "owner": 204, "stranger": 404, "outsider_pm": 404}
    for who, status in expected.items():
        login_as(p[who])
        assert client.post(f"/projects/{project.id}/photos/direct").status_code == status, who
    login_as(p["other_painter"])
    assert client.post(f"/projects/{project.id}/photos/direct").status_code == 404


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning")
def test_a_real_phone_sized_photo_is_not_refused_by_the_request_limit(client, db, login_as, site):
    """Every other request stops at MAX_REQUEST_BYTES (1 MB); upload routes raise it for
    themselves (core.uploads.accepts_uploads) — a 3 MB photo from a phone goes through,
    on the gallery and on the task card alike."""
    import gc
    import os

    from PIL import Image

    project, task, p = site
    noise = Image.frombytes("RGB", (1200, 900), os.urandom(1200 * 900 * 3))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=95)
    big = out.getvalue()
    assert len(big) > 1024 * 1024
    login_as(p["painter"])
    card = client.post(f"/tasks/{task.id}/photo", data={"photo": (io.BytesIO(big), "IMG_0001.jpg")})
    assert card.status_code == 200 and "Photo added." in card.text
    login_as(p["pm"])
    gallery = client.post(
        f"/projects/{project.id}/photos",
        data={"file": (io.BytesIO(big), "IMG_0002.jpg")},
        headers={"X-Kibray-Upload": "1"},
    )
    assert gallery.status_code == 200 and gallery.json["ok"]
    not_an_upload = client.post(f"/projects/{project.id}/photos/approve", data={"ids": "1" * (2 * 1024 * 1024)})
    assert not_an_upload.status_code == 413  # the limit stays for everything else
    assert _count(db) == 2
    del card, gallery, not_an_upload
    gc.collect()


def test_metadata_never_names_anything(client, db, login_as, site, app):
    """A photo whose EXIF carries a path-like description and a script as camera name is
    stored under a random key, handed out under the project's name, and none of that text
    becomes a caption, a name or a path (the camera's data stays in the file: it is only
    ever served as image bytes, with nosniff)."""
    from PIL import Image

    project, _task, p = site
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010E] = "../../etc/passwd"  # ImageDescription
    exif[0x0110] = "<script>alert(1)</script>"  # Model
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    login_as(p["pm"])
    answer = client.post(
        f"/projects/{project.id}/photos",
        data={"file": (io.BytesIO(out.getvalue()), "x.jpg")},
        headers={"X-Kibray-Upload": "1"},
    )
    assert answer.status_code == 200
    photo = db.session.get(Photo, answer.json["id"])
    assert "passwd" not in photo.storage_key and photo.caption == "" and photo.tags == []
    shown = client.get(f"/photos/{photo.id}/image?size=original")
    assert "passwd" not in shown.headers["Content-Disposition"] and "script" not in shown.headers["Content-Disposition"]
    assert shown.mimetype == "image/jpeg" and shown.headers["X-Content-Type-Options"] == "nosniff"
