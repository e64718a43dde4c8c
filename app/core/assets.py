"""Static files under fingerprinted URLs: `url_for('static', filename='css/app.css')` is
`/static/css/app.3f2a9c1b7d.css` — the first 10 hex digits of the file's SHA-256 in the
path, so a browser or a CDN may keep it a year (`Cache-Control: public, max-age=31536000,
immutable`): a changed file is a new URL. The manifest (every file under static/ and its
fingerprinted name) is computed once when the app is built — 16 files, ~1 ms — never per
request.

The plain URL (`/static/css/app.css`) keeps working with a short cache (5 minutes): old
pages, bookmarks, rq-dashboard's links. A fingerprinted URL whose digest is not the
current file's (a page rendered by the previous release during a rolling deploy, asking
an instance that already runs the new one) serves the current file with the short cache
too, never a 404 and never a year-long promise about content it does not hold."""

from __future__ import annotations

import hashlib
import os
import posixpath
import re

from flask import Flask, current_app, send_from_directory

DIGEST_LENGTH = 10
IMMUTABLE_SECONDS = 31536000  # one year: the longest max-age caches honour
SHORT_SECONDS = 300  # the plain name, or a digest from another release
# name.<10 hex>.ext (or name.<10 hex> for a file without an extension)
_FINGERPRINT = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{" + str(DIGEST_LENGTH) + r"})(?P<ext>\.[^./]+)?$")


def fingerprinted(name: str, digest: str) -> str:
    stem, ext = posixpath.splitext(name)
    return f"{stem}.{digest[:DIGEST_LENGTH]}{ext}"


def build_manifest(folder: str) -> dict[str, str]:
    """{"css/app.css": "css/app.3f2a9c1b7d.css", …} for every file under `folder`."""
    manifest: dict[str, str] = {}
    for directory, _dirs, files in os.walk(folder):
        for filename in files:
            path = os.path.join(directory, filename)
            name = os.path.relpath(path, folder).replace(os.sep, "/")
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            manifest[name] = fingerprinted(name, digest)
    return manifest


def static_url(filename: str) -> str:
    """The fingerprinted path of a static file without url_for (templates rendered with no
    URL adapter: errors/plain.html for outages and refused hosts); a file the manifest does
    not know keeps its plain name."""
    manifest = current_app.extensions.get("kibray_assets", {}).get("manifest", {})
    return "/static/" + manifest.get(filename, filename)


def init_app(app: Flask) -> None:
    if not app.static_folder or not os.path.isdir(app.static_folder):
        return
    manifest = build_manifest(app.static_folder)
    originals = {hashed: name for name, hashed in manifest.items()}
    app.extensions["kibray_assets"] = {"manifest": manifest, "originals": originals}
    folder = app.static_folder

    @app.url_defaults
    def _fingerprint(endpoint, values):
        if endpoint == "static":
            name = values.get("filename")
            if name in manifest:
                values["filename"] = manifest[name]

    def serve(filename: str):
        name = originals.get(filename)
        if name is not None:
            response = send_from_directory(folder, name, max_age=IMMUTABLE_SECONDS)
            response.cache_control.immutable = True
            return response
        found = _FINGERPRINT.match(filename)
        if found and filename not in manifest:
            plain = found["stem"] + (found["ext"] or "")
            if plain in manifest:
                filename = plain  # another release's digest: today's file, briefly cached
        return send_from_directory(folder, filename, max_age=SHORT_SECONDS)

    app.view_functions["static"] = serve
    app.jinja_env.globals["static_url"] = static_url
