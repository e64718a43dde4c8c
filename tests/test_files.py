"""Project and client documents (issue 9 "Files", app/files): who sees, uploads, shares
and deletes them; versions by name; a client sees only what is shared with them, of their
own company, and a client of another company gets 404 on every download URL; uploads
judged by content, nothing stored when refused; storage on local disk and on S3 (moto's
server, the fixtures of tests/test_storage.py)."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
import requests
from flask import current_app
from sqlalchemy import func, select

from app.core import storage
from app.core.audit import AuditLog
from app.core.events import send_now
from app.files import services
from app.files.models import Document, DocumentVersion
from tests.conftest import bearer
from tests.factories import PDF, make_client, make_document, make_project, make_user
from tests.images import png
from tests.test_events import open_stream  # noqa: F401 - the fixture, used by name
from tests.test_storage import BUCKET, on_s3, s3_server  # noqa: F401 - the S3 fixtures

TEAM = ("project_manager_full", "pm_trainee", "designer", "superintendent")


def pdf(text: str = "one") -> bytes:
    return PDF.replace(b"%%EOF", f"% {text}\n%%EOF".encode())


def office(folder: str = "word/", macros: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}document.xml", "<doc/>")
        if macros:
            archive.writestr(f"{folder}vbaProject.bin", b"\x00macro")
    return out.getvalue()


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


@pytest.fixture()
def site(db):
    """A company with a client user, its project `mine` (the team on it), another
    company's project and client user, an employee and an admin."""
    company = make_client(name="Harbor Holdings")
    other = make_client(name="Birch Row LLC")
    people = {role: make_user(role) for role in ("admin", *TEAM, "employee")}
    people["client"] = make_user("client", client=company)
    people["outsider"] = make_user("client", client=other)
    mine = make_project(client=company, members=[people[r] for r in TEAM], name="Harbor lofts")
    theirs = make_project(client=other, name="Birch Row exterior")
    return type("Site", (), {"people": people, "mine": mine, "theirs": theirs, "company": company, "other": other})


def count(model) -> int:
    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


def multipart(files, fields) -> tuple[bytes, str]:
    """A multipart body built in memory (the test client spools big ones to temporary
    files it never closes) and its content type."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    data = MultiDict(fields)
    for name, body in files:
        data.add("file", FileStorage(io.BytesIO(body), name))
    boundary, body = encode_multipart(data)
    return body, f"multipart/form-data; boundary={boundary}"


def send(client, url, *files, **fields):
    body, content_type = multipart(files, fields)
    return client.post(url, data=body, content_type=content_type, headers={"HX-Request": "true"})


# --- who may upload, and where --------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", *TEAM, "client"])
def test_each_role_that_may_uploads_to_the_project_and_the_fragment_lists_it(role, site, client, login_as, db):
    user = login_as(site.people[role])
    answer = send(client, f"/projects/{site.mine.id}/files", ("Permit.pdf", pdf()), category="permit")
    assert answer.status_code == 200, answer.text
    assert "Uploaded Permit.pdf." in answer.text and "data-upload" in answer.text
    document = db.session.scalars(select(Document)).one()
    version = document.versions[0]
    assert (document.name, document.category, document.project_id, document.client_id) == (
        "Permit.pdf",
        "permit",
        site.mine.id,
        None,
    )
    assert version.uploaded_by_id == user.id and version.content_type == "application/pdf"
    # a client's upload is marked as theirs and shared with them at once; staff's is internal
    assert version.client_provided is (role == "client")
    assert document.is_client_visible is (role == "client")
    assert storage.read(version.storage_key) == pdf()
    assert "Permit" not in version.storage_key  # random keys, never the file's name


@pytest.mark.parametrize("who", ["employee", "outsider"])
def test_employees_and_other_companies_clients_cannot_upload_or_even_see_the_project(who, site, client, login_as):
    login_as(site.people[who])
    assert send(client, f"/projects/{site.mine.id}/files", ("Permit.pdf", pdf())).status_code == 404
    assert client.get(f"/projects/{site.mine.id}/files").status_code == 404
    assert count(Document) == 0 and count(DocumentVersion) == 0


def test_a_closed_project_takes_no_documents(site, client, login_as, db):
    site.mine.status = "closed"
    db.session.flush()
    login_as(site.people["project_manager_full"])
    answer = send(client, f"/projects/{site.mine.id}/files", ("Permit.pdf", pdf()))
    assert answer.status_code == 422 and "Harbor lofts is closed" in answer.text
    assert count(Document) == 0


def test_client_records_documents_are_for_client_viewers_and_the_companys_own_users(site, client, login_as, db):
    admin = site.people["admin"]
    internal = make_document(admin, client=site.company, name="Credit check.pdf")
    shared = make_document(admin, client=site.company, name="Master agreement.pdf", is_client_visible=True)
    db.session.commit()
    for role in ("admin", "project_manager_full", "pm_trainee"):
        login_as(site.people[role])
        html = client.get(f"/clients/{site.company.id}/files").text
        assert "Credit check.pdf" in html and "Master agreement.pdf" in html
    for role in ("designer", "superintendent", "employee", "outsider"):
        login_as(site.people[role])
        assert client.get(f"/clients/{site.company.id}/files").status_code == 404
        assert client.get(f"/files/{shared.id}/download").status_code == 404
    login_as(site.people["client"])
    html = client.get(f"/clients/{site.company.id}/files").text
    assert "Master agreement.pdf" in html and "Credit check.pdf" not in html
    assert client.get(f"/files/{internal.id}/download").status_code == 404
    assert client.get(f"/files/{shared.id}/download").status_code == 200
    # the client uploads to their own company's record: shared with them, marked as theirs
    assert send(client, f"/clients/{site.company.id}/files", ("Insurance.pdf", pdf())).status_code == 200
    mine = db.session.scalars(select(Document).where(Document.name == "Insurance.pdf")).one()
    assert mine.client_id == site.company.id and mine.is_client_visible and mine.versions[0].client_provided
    # and a designer may not add to a client record (client.edit)
    login_as(site.people["designer"])
    assert send(client, f"/clients/{site.company.id}/files", ("x.pdf", pdf())).status_code == 404


# --- versions -------------------------------------------------------------------------


def test_the_same_name_in_the_same_place_is_the_next_version_and_older_ones_stay_downloadable(
    site, client, login_as, db
):
    login_as(site.people["project_manager_full"])
    send(client, f"/projects/{site.mine.id}/files", ("Contract.pdf", pdf("v1")), category="contract")
    answer = send(client, f"/projects/{site.mine.id}/files", ("CONTRACT.PDF", pdf("v2")))
    assert "Uploaded CONTRACT.PDF (version 2)." in answer.text
    send(client, f"/projects/{site.mine.id}/files", ("contract.pdf", pdf("v3")))
    # another place, the same name: a document of its own
    send(client, f"/clients/{site.company.id}/files", ("Contract.pdf", pdf("elsewhere")))
    document = db.session.scalars(select(Document).where(Document.project_id == site.mine.id)).one()
    assert document.name == "Contract.pdf" and document.latest_number == 3 and document.category == "contract"
    assert [v.number for v in document.versions] == [3, 2, 1]
    assert count(Document) == 2
    latest = client.get(f"/files/{document.id}/download")
    assert latest.status_code == 200 and latest.data == pdf("v3")
    assert client.get(f"/files/{document.id}/download?version=1").data == pdf("v1")
    second = client.get(f"/files/{document.id}/download?version=2")
    assert second.data == pdf("v2") and "CONTRACT.PDF" in second.headers["Content-Disposition"]
    for bad in ("4", "0", "x", "-1", "99999999999"):
        assert client.get(f"/files/{document.id}/download?version={bad}").status_code == 404
    html = client.get(f"/projects/{site.mine.id}/files").text
    assert 'data-testid="document-version-count">3<' in html and "Version history" in html


def test_a_clients_upload_never_joins_an_internal_document_of_the_same_name(site, client, login_as, db):
    internal = make_document(site.people["admin"], project=site.mine, name="Scope.pdf", data=pdf("internal"))
    db.session.commit()
    login_as(site.people["client"])
    answer = send(client, f"/projects/{site.mine.id}/files", ("scope.pdf", pdf("mine")))
    assert answer.status_code == 200
    db.session.expire_all()
    assert db.session.get(Document, internal.id).latest_number == 1  # untouched
    theirs = db.session.scalars(select(Document).where(Document.id != internal.id)).one()
    assert theirs.name == "scope (2).pdf" and theirs.is_client_visible
    assert "internal" not in answer.text and client.get(f"/files/{internal.id}/download").status_code == 404
    # a shared document of that name does take the client's new version
    login_as(site.people["project_manager_full"])
    client.post(f"/files/{internal.id}/share")
    login_as(site.people["client"])
    send(client, f"/projects/{site.mine.id}/files", ("SCOPE.pdf", pdf("v2")))
    db.session.expire_all()
    again = db.session.get(Document, internal.id)
    assert again.latest_number == 2 and again.versions[0].client_provided


# --- sharing and deleting -------------------------------------------------------------


def test_sharing_is_for_admins_pms_and_trainees_and_is_audited(site, client, login_as, db):
    document = make_document(site.people["admin"], project=site.mine, name="Colours.pdf")
    db.session.commit()
    login_as(site.people["client"])
    assert client.get(f"/files/{document.id}/download").status_code == 404
    assert "Colours.pdf" not in client.get(f"/projects/{site.mine.id}/files").text
    for role in ("designer", "superintendent"):
        login_as(site.people[role])
        assert client.post(f"/files/{document.id}/share").status_code == 403
        assert "share-document" not in client.get(f"/projects/{site.mine.id}/files").text
    pm = login_as(site.people["pm_trainee"])
    answer = client.post(f"/files/{document.id}/share", headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "is shared with the client" in answer.text
    assert 'data-testid="shared-badge"' in answer.text
    entry = db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "Document", AuditLog.action == "update")
    ).one()
    assert entry.user_id == pm.id and entry.changes["is_client_visible"] == [False, True]
    login_as(site.people["client"])
    assert client.get(f"/files/{document.id}/download").status_code == 200
    html = client.get(f"/projects/{site.mine.id}/files").text
    assert "Colours.pdf" in html and "share-document" not in html and "Internal" not in html
    assert client.post(f"/files/{document.id}/unshare").status_code == 403
    login_as(site.people["project_manager_full"])
    assert client.post(f"/files/{document.id}/unshare").status_code == 303
    login_as(site.people["client"])
    assert client.get(f"/files/{document.id}/download").status_code == 404


def test_only_admins_delete_and_a_deletion_keeps_its_record_but_not_the_objects(site, client, login_as, db):
    admin = site.people["admin"]
    login_as(site.people["client"])
    send(client, f"/projects/{site.mine.id}/files", ("Photo of damage.pdf", pdf("1")))
    send(client, f"/projects/{site.mine.id}/files", ("Photo of damage.pdf", pdf("2")))
    document = db.session.scalars(select(Document)).one()
    keys = [v.storage_key for v in document.versions]
    assert all(storage.exists(k) for k in keys)
    for role in ("client", *TEAM):
        login_as(site.people[role])
        assert client.post(f"/files/{document.id}/delete").status_code == 403
        assert 'data-testid="delete-document"' not in client.get(f"/projects/{site.mine.id}/files").text
    login_as(admin)
    assert 'data-testid="delete-document"' in client.get(f"/projects/{site.mine.id}/files").text
    assert client.post(f"/files/{document.id}/delete").status_code == 303
    db.session.expire_all()
    kept = db.session.get(Document, document.id)
    assert kept.deleted_at is not None and kept.deleted_by_id == admin.id and len(kept.versions) == 2
    assert not any(storage.exists(k) for k in keys)  # gone from storage after the commit
    entry = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == "Document", AuditLog.object_id == str(document.id))
        .order_by(AuditLog.id.desc())
    ).first()
    assert entry.user_id == admin.id and "deleted_at" in entry.changes
    for who in ("admin", "client"):
        login_as(site.people[who])
        assert client.get(f"/files/{document.id}/download").status_code == 404
        assert "Photo of damage.pdf" not in client.get(f"/projects/{site.mine.id}/files").text
    # the name is free again: a new document, version 1
    send(client, f"/projects/{site.mine.id}/files", ("Photo of damage.pdf", pdf("3")))
    assert count(Document) == 2


# --- the other company's client -------------------------------------------------------


def test_a_client_of_another_company_gets_404_on_every_download_url_and_sees_no_names(site, client, login_as, db):
    admin = site.people["admin"]
    documents = [
        make_document(admin, project=site.mine, name="Internal estimate.pdf"),
        make_document(admin, project=site.mine, name="Shared colours.pdf", is_client_visible=True),
        make_document(admin, client=site.company, name="Harbor agreement.pdf", is_client_visible=True),
        make_document(admin, client=site.company, name="Harbor credit.pdf"),
    ]
    services.upload(admin, services.Place(project=site.mine), [("Shared colours.pdf", pdf("v2"))])
    db.session.commit()
    outsider = login_as(site.people["outsider"])
    for document in documents:
        for suffix in ("", "?version=1", "?version=2", "?version=3"):
            answer = client.get(f"/files/{document.id}/download{suffix}")
            assert answer.status_code == 404 and "Location" not in answer.headers
        assert client.post(f"/files/{document.id}/share").status_code == 404
        assert client.post(f"/files/{document.id}/delete").status_code == 404
    for url in (f"/projects/{site.mine.id}/files", f"/clients/{site.company.id}/files"):
        assert client.get(url).status_code == 404
    headers = bearer(client, outsider)
    listing = client.get("/api/files/", headers=headers).json["data"]
    assert listing["results"] == [] and listing["pagination"]["total_count"] == 0
    for query in (f"project_id={site.mine.id}", f"client_id={site.company.id}", "ordering=-created_at"):
        found = client.get(f"/api/files/?{query}", headers=headers)
        assert found.status_code == 200 and found.json["data"]["results"] == []
    for document in documents:
        answer = client.get(f"/api/files/{document.id}/", headers=headers)
        assert answer.status_code == 404 and "Harbor" not in answer.text and "colours" not in answer.text


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("empty.pdf", b"", "The file is empty."),
        ("invoice.pdf", ELF, "its content decides, not its name"),
        ("drawing.svg", SVG, "its content decides, not its name"),
        ("archive.zip", None, "its content decides, not its name"),
        ("budget.xlsm", office("xl/", macros=True), "Documents with macros are not accepted"),
        ("broken.docx", b"PK\x03\x04" + b"\x00" * 40, "damaged"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message_and_nothing_is_stored(
    name, body, message, site, client, login_as, db, app, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "MEDIA_ROOT", str(tmp_path))  # this test's own media folder
    if body is None:  # a ZIP that is no Office document
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("readme.txt", "hello")
        body = out.getvalue()
    login_as(site.people["project_manager_full"])
    answer = send(client, f"/projects/{site.mine.id}/files", (name, body))
    assert answer.status_code == 422 and message in answer.text
    assert 'data-testid="upload-error"' in answer.text
    assert count(Document) == 0 and count(DocumentVersion) == 0
    assert list(tmp_path.rglob("*.*")) == []  # no object on disk either


def test_an_oversize_file_is_refused_by_the_setting_and_a_huge_request_before_it_is_read(
    site, client, login_as, app, monkeypatch
):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PDF_MB", 1)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PHOTO_MB", 1)
    login_as(site.people["project_manager_full"])
    big = pdf() + b"0" * (1024 * 1024)
    answer = send(client, f"/projects/{site.mine.id}/files", ("plans.pdf", big))
    assert answer.status_code == 422 and "larger than 1 MB" in answer.text
    huge = pdf() + b"0" * (7 * 1024 * 1024)  # past the request's own limit: 413, never read
    body, content_type = multipart([("plans.pdf", huge)], {})
    answer = client.post(f"/projects/{site.mine.id}/files", data=body, content_type=content_type)
    assert answer.status_code == 413 and "at most 6,291,456 bytes" in answer.text
    assert count(Document) == 0


def test_file_names_are_made_safe_and_their_extension_says_what_the_content_is(site, client, login_as, db):
    login_as(site.people["project_manager_full"])
    send(
        client,
        f"/projects/{site.mine.id}/files",
        ("../../etc/passwd.pdf", pdf("1")),
        ("Spec sheet", pdf("2")),
        ("notes.exe", pdf("3")),
    )
    send(
        client,
        f"/projects/{site.mine.id}/files",
        ("Schedule.docx", office("word/")),
        ("Takeoff.XLSX", office("xl/")),
        ("site.heic", png()),
    )
    names = set(db.session.scalars(select(Document.name)))
    assert names == {"passwd.pdf", "Spec sheet.pdf", "notes.exe.pdf", "Schedule.docx", "Takeoff.XLSX", "site.png"}
    types = dict(db.session.execute(select(DocumentVersion.filename, DocumentVersion.content_type)).all())
    assert types["Schedule.docx"].endswith("wordprocessingml.document")
    assert types["Takeoff.XLSX"].endswith("spreadsheetml.sheet")
    assert all(
        ".." not in key and "passwd" not in key for key in db.session.scalars(select(DocumentVersion.storage_key))
    )
    document = db.session.scalars(select(Document).where(Document.name == "passwd.pdf")).one()
    answer = client.get(f"/files/{document.id}/download")
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="passwd.pdf"')
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    photo = db.session.scalars(select(Document).where(Document.name == "site.png")).one()
    assert client.get(f"/files/{photo.id}/download").headers["Content-Disposition"].startswith("inline;")


def test_several_files_at_once_all_or_nothing(site, client, login_as, db):
    login_as(site.people["superintendent"])
    answer = send(client, f"/projects/{site.mine.id}/files", ("a.pdf", pdf("a")), ("b.pdf", pdf("b")))
    assert answer.status_code == 200 and count(Document) == 2
    answer = send(client, f"/projects/{site.mine.id}/files", ("c.pdf", pdf("c")), ("invoice.pdf", ELF))
    assert answer.status_code == 422 and "invoice.pdf: Choose" in answer.text
    assert count(Document) == 2 and count(DocumentVersion) == 2
    six = [(f"{n}.pdf", pdf(str(n))) for n in range(6)]
    assert "At most 5 files" in send(client, f"/projects/{site.mine.id}/files", *six).text
    assert send(client, f"/projects/{site.mine.id}/files").status_code == 422  # no file at all


def test_a_superintendent_cannot_share_while_uploading(site, client, login_as):
    login_as(site.people["superintendent"])
    answer = send(client, f"/projects/{site.mine.id}/files", ("a.pdf", pdf()), is_client_visible="on")
    assert answer.status_code == 422 and "You cannot choose what the client sees" in answer.text
    assert count(Document) == 0
    # nor unshare a shared document by sending its next version with is_client_visible=false
    shared = make_document(site.people["admin"], project=site.mine, name="Colours.pdf", is_client_visible=True)
    headers = bearer(client, site.people["superintendent"])
    refused = api_send(
        client, headers, pdf("2"), name="Colours.pdf", project_id=site.mine.id, is_client_visible="false"
    )
    assert refused.status_code == 400 and "is_client_visible" in refused.json["error"]["details"]
    assert shared.is_client_visible and shared.latest_number == 1
    kept = api_send(client, headers, pdf("2"), name="Colours.pdf", project_id=site.mine.id)
    assert kept.status_code == 201 and kept.json["data"]["version"] == 2 and kept.json["data"]["is_client_visible"]


def test_the_project_page_holds_the_documents_section_for_those_who_may_see_it(site, client, login_as):
    for role, shown in (("admin", True), ("designer", True), ("client", True)):
        login_as(site.people[role])
        html = client.get(f"/projects/{site.mine.id}").text
        assert (f'hx-get="/projects/{site.mine.id}/files"' in html) is shown


# --- storage: S3 ----------------------------------------------------------------------


def _s3_keys(s3) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_on_s3_a_download_is_a_short_lived_presigned_url_issued_after_the_check(
    site,
    client,
    login_as,
    db,
    on_s3,  # noqa: F811
):
    login_as(site.people["client"])
    send(client, f"/projects/{site.mine.id}/files", ("Damage.pdf", pdf("1")))
    send(client, f"/projects/{site.mine.id}/files", ("damage.pdf", pdf("2")))
    document = db.session.scalars(select(Document)).one()
    assert sorted(_s3_keys(on_s3)) == sorted(v.storage_key for v in document.versions)
    answer = client.get(f"/files/{document.id}/download?version=1")
    assert answer.status_code == 302 and "X-Amz-Signature=" in answer.headers["Location"]
    assert "X-Amz-Expires=300" in answer.headers["Location"]
    assert "response-content-disposition=attachment" in answer.headers["Location"]
    assert requests.get(answer.headers["Location"], timeout=5).content == pdf("1")
    login_as(site.people["outsider"])
    refused = client.get(f"/files/{document.id}/download")
    assert refused.status_code == 404 and "Location" not in refused.headers
    login_as(site.people["admin"])
    client.post(f"/files/{document.id}/delete")
    assert _s3_keys(on_s3) == []


def test_on_s3_a_failed_upload_leaves_no_object_and_no_row(site, client, login_as, db, on_s3, monkeypatch):  # noqa: F811
    real = services._add
    calls = []

    def add_then_fail(*args, **kwargs):
        calls.append(real(*args, **kwargs))  # the object is stored, its row flushed …
        if len(calls) == 2:
            raise RuntimeError("the disk under the database filled up")  # … then the request fails
        return calls[-1]

    monkeypatch.setattr(services, "_add", add_then_fail)
    login_as(site.people["project_manager_full"])
    failed = send(client, f"/projects/{site.mine.id}/files", ("a.pdf", pdf("a")), ("b.pdf", pdf("b")))
    assert failed.status_code == 500 and len(calls) == 2
    assert _s3_keys(on_s3) == []
    assert count(Document) == 0 and count(DocumentVersion) == 0


def test_on_s3_a_refused_upload_stores_nothing(site, client, login_as, on_s3):  # noqa: F811
    login_as(site.people["project_manager_full"])
    assert send(client, f"/projects/{site.mine.id}/files", ("ok.pdf", pdf()), ("invoice.pdf", ELF)).status_code == 422
    assert _s3_keys(on_s3) == []


# --- the API --------------------------------------------------------------------------


def api_send(client, headers, body=None, name="Permit.pdf", **fields):
    data, content_type = multipart([(name, body)] if body is not None else [], {k: str(v) for k, v in fields.items()})
    return client.post("/api/files/", data=data, content_type=content_type, headers=headers)


def test_api_upload_detail_list_share_and_delete(site, client, db):
    pm = site.people["project_manager_full"]
    headers = bearer(client, pm)
    made = api_send(client, headers, pdf("1"), project_id=site.mine.id, category="permit")
    assert made.status_code == 201, made.json
    data = made.json["data"]
    assert data["project"] == {"id": site.mine.id, "name": "Harbor lofts"} and data["client"] is None
    assert (data["name"], data["version"], data["content_type"], data["size"]) == (
        "Permit.pdf",
        1,
        "application/pdf",
        len(pdf("1")),
    )
    assert data["is_client_visible"] is False and data["uploaded_by"] == {"id": pm.id, "name": pm.name}
    assert data["url"].endswith(f"/files/{data['id']}/download") and "amazonaws" not in data["url"]
    again = api_send(client, headers, pdf("2"), name="permit.PDF", project_id=site.mine.id, is_client_visible="true")
    assert again.status_code == 201 and again.json["data"]["id"] == data["id"]
    assert again.json["data"]["version"] == 2 and again.json["data"]["is_client_visible"] is True
    api_send(client, headers, pdf("3"), name="Agreement.pdf", client_id=site.company.id)
    listing = client.get(f"/api/files/?project_id={site.mine.id}", headers=headers).json["data"]
    assert [r["name"] for r in listing["results"]] == ["Permit.pdf"]
    both = client.get("/api/files/?ordering=-name&page_size=1", headers=headers).json["data"]
    assert both["pagination"]["total_count"] == 2 and both["results"][0]["name"] == "Permit.pdf"
    assert client.get("/api/files/?ordering=size", headers=headers).status_code == 400
    assert client.get("/api/files/?category=contract", headers=headers).json["data"]["results"] == []
    # the client sees the shared one only
    client_headers = bearer(client, site.people["client"])
    seen = client.get("/api/files/", headers=client_headers).json["data"]["results"]
    assert [r["name"] for r in seen] == ["Permit.pdf"]
    unshared = client.post(f"/api/files/{data['id']}/unshare/", headers=headers)
    assert unshared.status_code == 200 and unshared.json["data"]["is_client_visible"] is False
    assert client.get(f"/api/files/{data['id']}/", headers=client_headers).status_code == 404
    assert client.post(f"/api/files/{data['id']}/share/", headers=headers).json["data"]["is_client_visible"]
    assert client.delete(f"/api/files/{data['id']}/", headers=headers).status_code == 403
    gone = client.delete(f"/api/files/{data['id']}/", headers=bearer(client, site.people["admin"]))
    assert gone.status_code == 200 and gone.json["data"] == {"id": data["id"], "deleted": True}
    assert client.get(f"/api/files/{data['id']}/", headers=headers).status_code == 404


def test_api_clients_upload_to_their_own_projects_only(site, client, db):
    headers = bearer(client, site.people["client"])
    made = api_send(client, headers, pdf(), name="Photo of damage.pdf", project_id=site.mine.id)
    assert made.status_code == 201 and made.json["data"]["is_client_visible"] is True
    assert made.json["data"]["client_provided"] is True
    assert api_send(client, headers, pdf(), project_id=site.theirs.id).status_code == 404
    assert api_send(client, headers, pdf(), client_id=site.other.id).status_code == 404
    assert api_send(client, bearer(client, site.people["employee"]), pdf(), project_id=site.mine.id).status_code == 403
    assert count(Document) == 1


@pytest.mark.parametrize(
    ("fields", "body", "field", "message"),
    [
        ({}, PDF, "project_id", "Choose the project or the client"),
        ({"project_id": 1, "client_id": 1}, PDF, "client_id", "not both"),
        ({"project_id": "x"}, PDF, "project_id", "whole number"),
        ({"category": "poster"}, PDF, "category", ""),
        ({"is_client_visible": "yes"}, PDF, "is_client_visible", ""),
        ({"mine": True}, None, "file", "This field is required."),
        ({"mine": True}, b"", "file", "The file is empty."),
        ({"mine": True}, ELF, "file", "its content decides"),
        ({"mine": True}, SVG, "file", "its content decides"),
    ],
)
def test_api_bad_uploads_are_field_errors_and_store_nothing(fields, body, field, message, site, client):
    headers = bearer(client, site.people["admin"])
    if fields.pop("mine", False):
        fields["project_id"] = site.mine.id
    answer = api_send(client, headers, body, **fields)
    assert answer.status_code == 400, answer.json
    assert answer.json["error"]["code"] == "VALIDATION_ERROR"
    assert message in answer.json["error"]["details"][field]
    assert count(Document) == 0


def test_api_json_instead_of_multipart_is_a_clear_error(site, client):
    headers = bearer(client, site.people["admin"])
    answer = client.post("/api/files/", json={"project_id": site.mine.id}, headers=headers)
    assert answer.status_code == 400 and "multipart/form-data" in answer.json["error"]["details"]["file"]


def test_the_list_and_fragment_read_a_fixed_number_of_statements(site, client, login_as, db, count_queries):
    admin = site.people["admin"]
    for n in range(6):
        make_document(admin, project=site.mine, name=f"Sheet {n}.pdf")
        make_document(admin, project=site.mine, name=f"Sheet {n}.pdf")
    db.session.commit()
    login_as(site.people["project_manager_full"])
    with count_queries() as few:
        client.get(f"/projects/{site.mine.id}/files")
    make_document(admin, project=site.mine, name="Sheet 9.pdf")
    db.session.commit()
    with count_queries() as more:
        client.get(f"/projects/{site.mine.id}/files")
    assert more.n == few.n
    headers = bearer(client, site.people["project_manager_full"])
    with count_queries() as listed:
        client.get("/api/files/", headers=headers)
    assert listed.n < 15


# --- core.uploads: Office documents ---------------------------------------------------


def test_office_documents_are_judged_by_their_parts(app):
    from app.core import uploads
    from app.core.errors import ValidationError

    with app.test_request_context():
        for folder, extension in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            found = uploads.inspect(office(folder), accept=("office",))
            assert found.extension == extension and found.kind == "office" and found.data == office(folder)
        with pytest.raises(ValidationError) as refused:
            uploads.inspect(office("word/", macros=True), accept=("office",))
        assert "macros" in refused.value.fields["file"]
        with pytest.raises(ValidationError):  # a photo-only caller never takes a document
            uploads.inspect(office(), accept=("photo",))
        with pytest.raises(ValidationError):
            uploads.inspect(office(), accept=("photo", "pdf"))


def test_a_client_never_learns_who_on_the_staff_uploaded_a_document(site, client, login_as, db):
    superintendent = site.people["superintendent"]
    make_document(superintendent, project=site.mine, name="Colours.pdf")
    document = db.session.scalars(select(Document)).one()
    services.set_shared(site.people["admin"], document, True)
    db.session.commit()
    login_as(site.people["client"])
    html = client.get(f"/projects/{site.mine.id}/files").text
    assert "Colours.pdf" in html and superintendent.name not in html and "the team" in html
    send(client, f"/projects/{site.mine.id}/files", ("colours.pdf", pdf("mine")))
    html = client.get(f"/projects/{site.mine.id}/files").text
    assert site.people["client"].name in html and superintendent.name not in html
    headers = bearer(client, site.people["client"])
    detail = client.get(f"/api/files/{document.id}/", headers=headers).json["data"]
    assert detail["uploaded_by"] == {"id": site.people["client"].id, "name": site.people["client"].name}
    login_as(site.people["project_manager_full"])
    assert superintendent.name in client.get(f"/projects/{site.mine.id}/files").text


def test_uploads_and_sharing_read_as_sentences_in_the_audit_log(site, client, login_as, db):
    from app.core.audit_text import describe as audit_lines

    pm = login_as(site.people["project_manager_full"])
    send(client, f"/projects/{site.mine.id}/files", ("Permit.pdf", pdf("1")))
    send(client, f"/projects/{site.mine.id}/files", ("Permit.pdf", pdf("2")))
    document = db.session.scalars(select(Document)).one()
    client.post(f"/files/{document.id}/share")
    entries = db.session.scalars(select(AuditLog).where(AuditLog.user_id == pm.id).order_by(AuditLog.id)).all()
    text = " | ".join(str(line.sentence) for line in audit_lines(entries))
    assert "uploaded version 2 of Permit.pdf" in text
    assert "shared Permit.pdf with the client" in text


def test_on_disk_a_failed_upload_leaves_no_file_and_no_row(site, client, login_as, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIA_ROOT", str(tmp_path))
    real = services._add

    def add_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        assert list(tmp_path.rglob("*.pdf"))  # stored …
        raise RuntimeError("the database went away")  # … then the request fails

    monkeypatch.setattr(services, "_add", add_then_fail)
    login_as(site.people["admin"])
    assert send(client, f"/clients/{site.company.id}/files", ("a.pdf", pdf())).status_code == 500
    assert list(tmp_path.rglob("*.pdf")) == []
    assert count(Document) == 0 and count(DocumentVersion) == 0


def test_api_clients_download_through_the_api_route_after_the_same_check(site, client, db, on_s3):  # noqa: F811
    admin = site.people["admin"]
    document = make_document(admin, project=site.mine, name="Colours.pdf", data=pdf("1"), is_client_visible=True)
    services.upload(admin, services.Place(project=site.mine), [("colours.pdf", pdf("2"))])
    db.session.commit()
    headers = bearer(client, site.people["client"])
    latest = client.get(f"/api/files/{document.id}/download/", headers=headers)
    assert latest.status_code == 302 and "X-Amz-Signature=" in latest.headers["Location"]
    assert requests.get(latest.headers["Location"], timeout=5).content == pdf("2")
    first = client.get(f"/api/files/{document.id}/download/?version=1", headers=headers)
    assert requests.get(first.headers["Location"], timeout=5).content == pdf("1")
    assert client.get(f"/api/files/{document.id}/download/?version=3", headers=headers).status_code == 404
    outsider = bearer(client, site.people["outsider"])
    for suffix in ("", "?version=1", "?version=2"):
        refused = client.get(f"/api/files/{document.id}/download/{suffix}", headers=outsider)
        assert refused.status_code == 404 and "Location" not in refused.headers


def test_api_download_on_disk_streams_the_bytes(site, client, db):
    document = make_document(site.people["admin"], project=site.mine, name="Scope.pdf", data=pdf("x"))
    db.session.commit()
    answer = client.get(f"/api/files/{document.id}/download/", headers=bearer(client, site.people["designer"]))
    assert answer.status_code == 200 and answer.data == pdf("x")
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="Scope.pdf"')


def test_the_upload_script_sends_one_file_a_request_and_reads_json(site, client, login_as, db):
    """static/js/app.js's form[data-upload]: each file posted alone with X-Kibray-Upload,
    answered {ok, …} or {ok: false, error} (422), which the file's row shows."""
    login_as(site.people["designer"])
    html = client.get(f"/projects/{site.mine.id}/files").text
    assert "data-upload " in html and "data-upload-list" in html and "multiple" in html
    body, content_type = multipart([("Spec.pdf", pdf())], {"category": "spec_sheet"})
    done = client.post(
        f"/projects/{site.mine.id}/files", data=body, content_type=content_type, headers={"X-Kibray-Upload": "1"}
    )
    assert done.status_code == 200 and done.json["ok"] is True and done.json["message"] == "Uploaded Spec.pdf."
    body, content_type = multipart([("invoice.pdf", ELF)], {})
    failed = client.post(
        f"/projects/{site.mine.id}/files", data=body, content_type=content_type, headers={"X-Kibray-Upload": "1"}
    )
    assert failed.status_code == 422 and failed.json["ok"] is False and "content decides" in failed.json["error"]
    assert count(Document) == 1


def test_a_deleted_project_takes_its_documents_objects_along(site, client, login_as, db):
    from app.projects.services import delete_project

    admin = site.people["admin"]
    kept = make_document(admin, project=site.theirs, name="Birch permit.pdf")
    make_document(admin, project=site.mine, name="Scope.pdf")
    make_document(admin, project=site.mine, name="scope.pdf")
    keys = list(db.session.scalars(select(DocumentVersion.storage_key)))
    assert len(keys) == 3 and all(storage.exists(k) for k in keys)
    delete_project(admin, site.mine)
    db.session.commit()
    remaining = [k for k in keys if storage.exists(k)]
    assert remaining == [kept.versions[0].storage_key]
    assert count(Document) == 1


# --- two uploads of one new name at once ------------------------------------------------


@pytest.fixture()
def committed_project(app):
    """A project with a PM on its team and an admin, committed for real (the race needs
    two connections); removed afterwards with its documents, their objects and the audit
    entries written meanwhile."""
    import uuid

    from sqlalchemy import delete

    from app.auth.models import User
    from app.clients.models import Client
    from app.extensions import db
    from app.projects.models import Project

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        last_audit = db.session.scalar(select(func.max(AuditLog.id))) or 0
        admin = make_user("admin", username=f"race-admin-{tag}", email=f"race-admin-{tag}@example.com")
        pm = make_user("project_manager_full", username=f"race-pm-{tag}", email=f"race-pm-{tag}@example.com")
        project = make_project(client=make_client(name=f"Race {tag}"), members=[pm], name=f"Race {tag}")
        db.session.commit()
        ids = {"admin": admin.id, "pm": pm.id, "project": project.id, "client": project.client_id}
        db.session.remove()
    yield ids
    with app.app_context():
        keys = db.session.scalars(
            select(DocumentVersion.storage_key)
            .join(Document, Document.id == DocumentVersion.document_id)
            .where(Document.project_id == ids["project"])
        ).all()
        for key in keys:
            storage.delete(key)
        db.session.execute(delete(Project).where(Project.id == ids["project"]))  # its documents by cascade
        db.session.execute(delete(Client).where(Client.id == ids["client"]))
        db.session.execute(delete(User).where(User.id.in_([ids["admin"], ids["pm"]])))
        db.session.execute(delete(AuditLog).where(AuditLog.id > last_audit))
        db.session.commit()
        db.session.remove()


def test_two_people_uploading_one_new_name_at_once_make_versions_1_and_2(app, committed_project):
    """Two people upload "Permit.pdf" — a name the project does not have yet — to the
    same project at the same moment, each on their own connection and transaction: one
    makes the document (version 1), the other waits for it (the place's lock, taken
    before the name is looked up) and adds version 2. No second "version 1", no unique
    violation."""
    import threading

    from app.auth.models import User
    from app.core.audit import acting_as
    from app.extensions import db

    ids = committed_project
    people = [ids["admin"], ids["pm"]]
    barrier = threading.Barrier(len(people))
    results: list = [None] * len(people)

    def run(i):
        with app.app_context():
            try:
                with acting_as("race", "admin"):
                    actor = db.session.get(User, people[i])
                    place = services.project_place(actor, ids["project"])
                    barrier.wait(timeout=10)
                    (version,) = services.upload(actor, place, [("Permit.pdf", pdf(f"from {i}"))])
                    db.session.commit()
                results[i] = version.number
            except Exception as exc:  # noqa: BLE001 - reported by the assertion
                db.session.rollback()
                results[i] = repr(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results, key=str) == [1, 2], results
    with app.app_context():
        documents = db.session.scalars(select(Document).where(Document.project_id == ids["project"])).all()
        assert [(d.name, d.latest_number) for d in documents] == [("Permit.pdf", 2)]
        versions = db.session.execute(
            select(DocumentVersion.number, DocumentVersion.uploaded_by_id).where(
                DocumentVersion.document_id == documents[0].id
            )
        ).all()
        assert sorted(number for number, _ in versions) == [1, 2]
        assert {who for _, who in versions} == set(people)  # one version each
        db.session.remove()


# --- live events ----------------------------------------------------------------------
# Who hears of a document (files.services._audience): the people entitled to see it, and
# nobody else; the event names it by id only (never by its file name).

STAFF_OF_MINE = {"admin", *TEAM}  # the project's team, and admins
RECORD_STAFF = {"admin", "project_manager_full", "pm_trainee", "off_team_pm"}  # client.view
SECRET = "Bid for Birch Row.pdf"  # a name nobody but its audience may learn


@pytest.fixture()
def listeners(site, db):
    """Everyone of `site`, and a PM of none of its projects; committed (its own events go
    out before any stream opens)."""
    people = dict(site.people)
    people["off_team_pm"] = make_user("project_manager_full")
    db.session.commit()
    return people


def heard(db, open_stream, people: dict, act) -> dict[str, list[tuple[str, dict, str]]]:  # noqa: F811
    """Open each person's live stream, `act()`, commit, and answer the document events
    each stream forwarded: (name, data, the data as sent). A marker sent to everyone
    afterwards proves absence (tests/test_live_audience.py, `receivers`)."""
    streams = {name: open_stream(user) for name, user in people.items()}
    act()
    db.session.commit()
    everyone = [user.id for user in people.values()]
    send_now(current_app._get_current_object(), {"event": "marker", "data": {}, "users": everyone, "roles": []})
    got = {}
    for name, stream in streams.items():
        assert stream.wait_for("marker"), f"{name}'s stream never got the marker"
        with stream.arrived:
            events = list(stream.events)
        got[name] = [
            (e["event"], json.loads(e["data"]), e["data"]) for e in events if e.get("event", "").startswith("document-")
        ]
    return got


def who(got, event: str, match: dict) -> set[str]:
    return {
        name for name, events in got.items() if any(e == event and match.items() <= d.items() for e, d, _ in events)
    }


def assert_ids_only(got) -> None:
    """No event carries more than ids (so never a file name), to anyone."""
    for events in got.values():
        for _name, data, raw in events:
            assert set(data) <= {"id", "project_id", "client_id", "origin"}, data
            assert "Birch" not in raw and ".pdf" not in raw


@pytest.mark.parametrize(("shared", "expected"), [(False, STAFF_OF_MINE), (True, STAFF_OF_MINE | {"client"})])
def test_a_new_project_document_reaches_who_may_see_it(site, listeners, db, open_stream, shared, expected):  # noqa: F811
    pm = site.people["project_manager_full"]
    place = services.Place(project=site.mine)
    got = heard(
        db, open_stream, listeners, lambda: services.upload(pm, place, [(SECRET, pdf())], is_client_visible=shared)
    )
    document = db.session.scalars(select(Document)).one()
    assert who(got, "document-added", {"id": document.id, "project_id": site.mine.id}) == expected
    # the employee, the other company's client, a PM of other projects: nothing at all
    assert {name for name, events in got.items() if events} == expected
    assert_ids_only(got)


def test_a_new_version_of_an_internal_document_never_reaches_the_client(site, listeners, db, open_stream):  # noqa: F811
    admin = site.people["admin"]
    document = make_document(admin, project=site.mine, name=SECRET)
    db.session.commit()
    place = services.Place(project=site.mine)
    got = heard(db, open_stream, listeners, lambda: services.upload(admin, place, [(SECRET.upper(), pdf("2"))]))
    assert document.latest_number == 2
    assert who(got, "document-updated", {"id": document.id}) == STAFF_OF_MINE
    assert {name for name, events in got.items() if events} == STAFF_OF_MINE
    assert_ids_only(got)


def test_a_clients_own_upload_reaches_them_and_the_team(site, listeners, db, open_stream):  # noqa: F811
    place = services.Place(project=site.mine)
    got = heard(db, open_stream, listeners, lambda: services.upload(site.people["client"], place, [(SECRET, pdf())]))
    assert who(got, "document-added", {"project_id": site.mine.id}) == STAFF_OF_MINE | {"client"}
    assert {name for name, events in got.items() if events} == STAFF_OF_MINE | {"client"}


def test_sharing_tells_the_client_and_unsharing_tells_them_to_drop_it(site, listeners, db, open_stream):  # noqa: F811
    pm = site.people["project_manager_full"]
    document = make_document(pm, project=site.mine, name=SECRET)
    db.session.commit()
    shared = heard(db, open_stream, listeners, lambda: services.set_shared(pm, document, True))
    assert who(shared, "document-updated", {"id": document.id}) == STAFF_OF_MINE | {"client"}
    assert who(shared, "document-removed", {}) == set()

    unshared = heard(db, open_stream, listeners, lambda: services.set_shared(pm, document, False))
    assert who(unshared, "document-updated", {"id": document.id}) == STAFF_OF_MINE
    assert who(unshared, "document-removed", {"id": document.id}) == {"client"}
    assert {name for name, events in unshared.items() if events} == STAFF_OF_MINE | {"client"}
    assert_ids_only(shared)
    assert_ids_only(unshared)


@pytest.mark.parametrize(("shared", "expected"), [(False, STAFF_OF_MINE), (True, STAFF_OF_MINE | {"client"})])
def test_a_deletion_reaches_who_could_see_the_document(site, listeners, db, open_stream, shared, expected):  # noqa: F811
    admin = site.people["admin"]
    document = make_document(admin, project=site.mine, name=SECRET, is_client_visible=shared)
    db.session.commit()
    got = heard(db, open_stream, listeners, lambda: services.delete_document(admin, document))
    assert who(got, "document-removed", {"id": document.id, "project_id": site.mine.id}) == expected
    assert {name for name, events in got.items() if events} == expected
    assert_ids_only(got)


@pytest.mark.parametrize(("shared", "expected"), [(False, RECORD_STAFF), (True, RECORD_STAFF | {"client"})])
def test_a_client_records_document_reaches_client_viewers_and_that_company(
    site,
    listeners,
    client,
    login_as,
    db,
    open_stream,  # noqa: F811
    shared,
    expected,
):
    """Through the client page's upload route: whoever sees client records (admins, every
    PM and trainee: client.view), and the company's own users once it is shared — never
    the designer, the superintendent, the employee or another company's client."""

    def upload():
        login_as(site.people["project_manager_full"])
        fields = {"is_client_visible": "on"} if shared else {}
        answer = send(client, f"/clients/{site.company.id}/files", (SECRET, pdf()), **fields)
        assert answer.status_code == 200, answer.text

    got = heard(db, open_stream, listeners, upload)
    document = db.session.scalars(select(Document)).one()
    assert (document.client_id, document.is_client_visible) == (site.company.id, shared)
    assert who(got, "document-added", {"id": document.id, "client_id": site.company.id}) == expected
    assert {name for name, events in got.items() if events} == expected
    assert_ids_only(got)


def test_the_page_that_made_the_change_is_named_as_its_origin(site, listeners, client, login_as, db, open_stream):  # noqa: F811
    """The share button's page ignores its own echo (app.js): the event names it."""
    document = make_document(site.people["admin"], project=site.mine, name=SECRET)
    db.session.commit()

    def share():
        login_as(site.people["pm_trainee"])
        headers = {
            "HX-Request": "true",
            "HX-Target": f"document-list-project-{site.mine.id}",
            "X-Kibray-Page": "page0001",
        }
        assert client.post(f"/files/{document.id}/share", headers=headers).status_code == 200

    got = heard(db, open_stream, {"client": listeners["client"], "pm": listeners["project_manager_full"]}, share)
    assert [data for _e, data, _raw in got["client"]] == [
        {"id": document.id, "project_id": site.mine.id, "origin": "page0001"}
    ]


# --- the live list --------------------------------------------------------------------


def test_the_documents_list_redraws_inside_a_wrapper_that_stays(site, client, login_as, db):
    """The list is the live region (a wrapper that stays, a refresh queued behind another):
    what it asks again and what its buttons answer is the list alone; the upload form is
    outside it, so a refresh never wipes an upload in progress."""
    document = make_document(site.people["admin"], project=site.mine, name="Colours.pdf")
    db.session.commit()
    login_as(site.people["project_manager_full"])
    list_id = f"document-list-project-{site.mine.id}"
    whole = client.get(f"/projects/{site.mine.id}/files", headers={"HX-Request": "true"}).text
    wrapper = re.findall(r'<div id="' + list_id + r'"[^>]*>', whole)
    assert len(wrapper) == 1, wrapper
    assert f'hx-get="/projects/{site.mine.id}/files"' in wrapper[0]
    assert 'hx-trigger="kibray:documents from:body"' in wrapper[0]
    assert 'hx-sync="this:queue last"' in wrapper[0] and 'hx-swap="innerHTML"' in wrapper[0]
    assert whole.index(list_id) < whole.index("Colours.pdf") < whole.index('data-testid="document-upload"')
    assert whole.count('data-testid="document-upload"') == 1 and "outerHTML" not in wrapper[0]

    aimed = {"HX-Request": "true", "HX-Target": list_id}
    refreshed = client.get(f"/projects/{site.mine.id}/files", headers=aimed)
    assert refreshed.status_code == 200 and "HX-Target" in refreshed.headers.get("Vary", "")
    assert "Colours.pdf" in refreshed.text and f'id="{list_id}"' not in refreshed.text
    assert 'data-testid="document-upload"' not in refreshed.text  # the form is not redrawn
    shared = client.post(f"/files/{document.id}/share", headers=aimed).text
    assert "is shared with the client" in shared and 'data-testid="shared-badge"' in shared
    assert f'id="{list_id}"' not in shared and f'hx-target="#{list_id}" hx-swap="innerHTML"' in shared

    login_as(site.people["admin"])
    client_list = client.get(f"/clients/{site.company.id}/files", headers={"HX-Request": "true"}).text
    assert f'<div id="document-list-client-{site.company.id}"' in client_list
