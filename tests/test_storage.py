"""Media storage (core/storage.py) against a real S3-compatible server — moto's server
mode, started by the tests on a free port — and on local disk: objects are private
(no public read; a presigned URL is issued only by the authorising route, after the
permission check, and expires), keys are random, file names never become paths, and a
failed upload leaves no object behind."""

from __future__ import annotations

import io
import socket

import pytest
import requests
from sqlalchemy import func, select

from app.core import storage
from app.photos.models import Photo
from app.tasks import services
from tests.factories import make_project, make_user
from tests.images import png

PNG = png()
BUCKET = "kibray-test-media"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture()
def on_s3(app, s3_server, monkeypatch):
    """The app's storage on the S3 server: a fresh, private bucket."""
    import boto3

    settings = {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_S3_REGION_NAME": "us-east-1",
        "MEDIA_URL_SECONDS": 300,
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(s3) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_objects_on_s3_are_private_and_a_short_lived_presigned_url_serves_them(app, on_s3, s3_server):
    with app.test_request_context():
        key = storage.save(storage.new_key("tasks/7", "png"), PNG, "image/png")
        assert key.startswith("tasks/7/") and key.endswith(".png") and storage.exists(key)
        assert storage.read(key) == PNG
        # no public read: the object's plain address answers 403
        assert requests.get(f"{s3_server}/{BUCKET}/{key}", timeout=5).status_code == 403
        url = storage.download_url(key, "north wall.png", "image/png", inline=True)
        assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
        # S3 answers with the type and file name the URL names (moto ignores these two)
        assert "response-content-disposition=inline" in url and "response-content-type=image%2Fpng" in url
        got = requests.get(url, timeout=5)
        assert got.status_code == 200 and got.content == PNG
        # the lifetime is the setting's (S3 refuses the URL after it; moto does not check
        # SigV4 expiry, so the URL's own claim is what is tested here)
        app.config["MEDIA_URL_SECONDS"] = 60
        assert "X-Amz-Expires=60&" in storage.download_url(key, "x.png", "image/png", inline=True)
        storage.delete(key)
        assert not storage.exists(key)


def test_a_task_photo_on_s3_is_handed_out_only_after_the_permission_check(client, db, login_as, app, on_s3):
    pm, painter = make_user("project_manager_full"), make_user("employee")
    project = make_project(members=[pm], name="Harbor lofts")
    task = services.create_task(pm, project, {"title": "Prime walls"}, [painter.id])
    db.session.commit()
    login_as(painter)
    added = client.post(f"/tasks/{task.id}/photo", data={"photo": (io.BytesIO(PNG), "../../etc/passwd.png")})
    assert added.status_code == 200
    photo = db.session.scalars(select(Photo).where(Photo.task_id == task.id)).one()
    assert _keys(on_s3) == [photo.storage_key] and "passwd" not in photo.storage_key
    url = f"/photos/{photo.id}/image?size=original"
    login_as(pm)
    answer = client.get(url)
    assert "passwd" not in answer.headers["Location"]  # the saved copy is named after the project
    assert answer.status_code == 302 and "X-Amz-Signature=" in answer.headers["Location"]
    stored = on_s3.get_object(Bucket=BUCKET, Key=photo.storage_key)["Body"].read()
    assert requests.get(answer.headers["Location"], timeout=5).content == stored
    login_as(make_user("project_manager_full"))  # another project's PM: no URL is issued
    refused = client.get(url)
    assert refused.status_code == 404 and "Location" not in refused.headers


def test_pages_may_connect_to_the_bucket_on_s3_for_direct_uploads(client, db, login_as, app, on_s3, s3_server):
    """The uploader posts a photo straight into the bucket (presigned POST) and images are
    shown from presigned URLs: the content security policy's connect-src and img-src name
    the bucket's origin — without them the browser blocked every upload and every image on
    S3 (found by scripts/smoke.py). Local disk: 'self' only."""
    login_as(make_user("admin"))
    policy = client.get("/").headers["Content-Security-Policy"]
    assert f"connect-src 'self' {s3_server};" in policy and f"img-src 'self' data: blob: {s3_server};" in policy
    with app.test_request_context():
        assert storage.presigned_post("photos/1", 1000)["url"].startswith(s3_server)
        assert storage.download_url("photos/1/x.png", "x.png", "image/png", inline=True).startswith(s3_server)
    app.config["AWS_STORAGE_BUCKET_NAME"] = None
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "connect-src 'self';" in policy and "img-src 'self' data: blob:;" in policy


def test_a_failed_upload_leaves_no_object_behind(client, db, login_as, app, on_s3, monkeypatch):
    """The object is written before the row; when the request then fails (here the
    task turned read-only by its project's closing after the object was stored), the
    rollback deletes the object: no orphan, no row."""
    pm, painter = make_user("project_manager_full"), make_user("employee")
    project = make_project(members=[pm], name="Harbor lofts")
    task = services.create_task(pm, project, {"title": "Prime walls"}, [painter.id])
    db.session.commit()
    from app.photos import services as photos

    def fail(*args, **kwargs):  # after the object and the row were written
        raise RuntimeError("the disk under the database filled up")

    login_as(painter)
    monkeypatch.setattr(photos, "_publish", fail)
    failed = client.post(f"/tasks/{task.id}/photo", data={"photo": (io.BytesIO(PNG), "wall.png")})
    assert failed.status_code == 500
    assert _keys(on_s3) == []
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_file_names_never_become_paths_and_keys_stay_in_the_media_folder(app):
    assert storage.safe_filename("../../etc/passwd") == "passwd"
    assert storage.safe_filename("C:\\Users\\pat\\IMG 0001.JPG") == "IMG 0001.JPG"
    assert storage.safe_filename('a"b\x00c\n.png') == "abc.png"
    assert storage.safe_filename("...") == "file"
    assert storage.disposition("Façade été.png", inline=False) == (
        "attachment; filename=\"Faade t.png\"; filename*=UTF-8''Fa%C3%A7ade%20%C3%A9t%C3%A9.png"
    )
    with app.test_request_context():
        with pytest.raises(ValueError):
            storage.save("../outside.txt", b"x")
        key = storage.save(storage.new_key("tasks/1", "../png"), b"x", "text/plain")
        assert key.endswith(".png") and storage.read(key) == b"x"
        storage.delete(key)
        assert not storage.exists(key)
