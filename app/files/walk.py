"""The documents' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
{document}: an internal document of `mine`; {shareddoc}: a document of `mine` shared
with its client; {theirdoc}: a shared document of `theirs` (another company's project,
nobody on its team); {companydoc}: a shared document of the client record `company`."""

from __future__ import annotations

from app.core.features import WalkRoute as R


def _pdf(_world):
    """A small PDF, as a browser sends it (a fresh stream for each request)."""
    import io

    return {"file": (io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), "Permit.pdf")}


ROUTES = (
    # the documents fragments of a project's page and of a client's page
    R("GET", "/projects/{mine}/files", "200 200 200 200 200 404 200"),
    R("GET", "/projects/{theirs}/files", "200 404 404 404 404 404 404"),
    R("GET", "/clients/{company}/files", "200 200 200 404 404 404 200"),
    R("GET", "/clients/{other}/files", "200 200 200 404 404 404 404"),
    R("POST", "/projects/{mine}/files", "303 303 303 303 303 404 303", _pdf),
    R("POST", "/projects/{theirs}/files", "303 404 404 404 404 404 404", _pdf),
    R("POST", "/clients/{company}/files", "303 303 303 404 404 404 303", _pdf),
    R("POST", "/clients/{other}/files", "303 303 303 404 404 404 404", _pdf),
    # sharing: admins, the project's PMs and trainees; a client never
    R("POST", "/files/{document}/share", "303 303 303 403 403 404 404"),
    R("POST", "/files/{shareddoc}/unshare", "303 303 303 403 403 404 403"),
    R("POST", "/files/{theirdoc}/unshare", "303 404 404 404 404 404 404"),
    R("POST", "/files/{companydoc}/unshare", "303 303 303 404 404 404 403"),
    R("POST", "/files/{document}/delete", "303 403 403 403 403 404 404"),
    R("POST", "/files/{shareddoc}/delete", "303 403 403 403 403 404 403"),
    # downloads: the client of another company gets 404 on every one
    R("GET", "/files/{document}/download", "200 200 200 200 200 404 404"),
    R("GET", "/files/{shareddoc}/download", "200 200 200 200 200 404 200"),
    R("GET", "/files/{shareddoc}/download?version=1", "200 200 200 200 200 404 200"),
    R("GET", "/files/{shareddoc}/download?version=9", "404 404 404 404 404 404 404"),
    R("GET", "/files/{theirdoc}/download", "200 404 404 404 404 404 404"),
    R("GET", "/files/{companydoc}/download", "200 200 200 404 404 404 200"),
    # the API
    R("GET", "/api/files/", "200 200 200 200 200 403 200"),
    R("GET", "/api/files/?project_id={mine}", "200 200 200 200 200 403 200"),
    R("GET", "/api/files/{document}/", "200 200 200 200 200 403 404"),
    R("GET", "/api/files/{shareddoc}/", "200 200 200 200 200 403 200"),
    R("GET", "/api/files/{theirdoc}/", "200 404 404 404 404 403 404"),
    R("GET", "/api/files/{companydoc}/", "200 200 200 404 404 403 200"),
    R("POST", "/api/files/{document}/share/", "200 200 200 403 403 403 404"),
    R("POST", "/api/files/{shareddoc}/unshare/", "200 200 200 403 403 403 403"),
    R("GET", "/api/files/{shareddoc}/download/", "200 200 200 200 200 403 200"),
    R("GET", "/api/files/{document}/download/?version=1", "200 200 200 200 200 403 404"),
    R("GET", "/api/files/{theirdoc}/download/", "200 404 404 404 404 403 404"),
    R("DELETE", "/api/files/{shareddoc}/", "200 403 403 403 403 403 403"),
)
# A closed project's upload (422, nothing stored) and POST /api/files/, multipart, which the walk does not send (it sends JSON to the API):
# are in tests/test_files.py for every role and place.
