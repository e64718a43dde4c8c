"""Static files under fingerprinted URLs (app/core/assets.py): a content hash in the path,
a year-long immutable cache on it, the plain URL still served with a short one; and the
static-files check (scripts/check_static.py) finds a referenced file that is missing."""

from __future__ import annotations

import hashlib
import os
import re

from flask import url_for

from app.core.assets import IMMUTABLE_SECONDS, SHORT_SECONDS
from scripts import check_static

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))


def _get(client, url: str):
    """A static file's answer, read and closed (send_file streams the open file)."""
    answer = client.get(url)
    answer.get_data()
    answer.close()
    return answer


def _digest(name: str) -> str:
    with open(os.path.join(ROOT, "static", name), "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:10]


def test_url_for_static_puts_the_content_hash_in_the_path_served_a_year_immutable(app, client):
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    assert url == f"/static/css/app.{_digest('css/app.css')}.css"
    answer = _get(client, url)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == f"public, max-age={IMMUTABLE_SECONDS}, immutable"
    assert IMMUTABLE_SECONDS >= 365 * 24 * 3600
    with open(os.path.join(ROOT, "static", "css", "app.css"), "rb") as handle:
        assert answer.data == handle.read()
    assert answer.headers["Content-Type"].startswith("text/css")


def test_the_plain_url_and_another_releases_digest_serve_with_a_short_cache(client):
    plain = _get(client, "/static/js/app.js")
    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == f"public, max-age={SHORT_SECONDS}"
    # a page of the previous release asking this one (rolling deploy): today's file, briefly
    stale = _get(client, "/static/js/app.0123456789.js")
    assert stale.status_code == 200 and stale.data == plain.data
    assert "immutable" not in stale.headers["Cache-Control"]
    assert client.get("/static/js/nothing.0123456789.js").status_code == 404
    assert client.get("/static/js/nothing.js").status_code == 404


def test_pages_link_every_static_file_by_its_fingerprint(client, login_as):
    login_as("admin")
    html = client.get("/").text
    linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert len(linked) >= 5  # app.css, favicon, htmx, its SSE extension, app.js
    for url in linked:
        assert re.search(r"\.[0-9a-f]{10}\.\w+$", url), url
        assert _get(client, url).headers["Cache-Control"].endswith("immutable"), url


def test_the_plain_error_page_links_the_fingerprinted_style_sheet(app):
    with app.app_context():
        html = app.jinja_env.get_template("errors/plain.html").render(status=503, title="t", message="m")
    assert f"/static/css/app.{_digest('css/app.css')}.css" in html


def test_the_static_check_names_a_missing_file_and_where_it_is_referenced(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "here.css").write_text(
        ".a { background: url('../img/gone.png') } .b { background: url(data:image/png;base64,AA==) }"
    )
    (tmp_path / "templates" / "page.html").write_text(
        "{{ url_for('static', filename='css/here.css') }} {{ url_for(\"static\", filename=\"js/gone.js\") }}"
        ' <img src="/static/img/also-gone.svg">'
    )
    refs = check_static.references(str(tmp_path))
    assert check_static.missing_files(str(tmp_path), refs) == ["img/also-gone.svg", "img/gone.png", "js/gone.js"]
    assert refs["img/gone.png"] == {os.path.join("static", "css", "here.css")}
    assert refs["js/gone.js"] == {os.path.join("templates", "page.html")}


def test_the_static_check_passes_on_this_checkout():
    refs = check_static.references(ROOT)
    assert "css/app.css" in refs and "vendor/htmx-2.0.11.min.js" in refs
    assert check_static.missing_files(ROOT, refs) == []
