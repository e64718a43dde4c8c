"""The OpenAPI document kept on disk beside the compiled templates
(`instance/openapi/<fingerprint>.json`), so a worker serves it without building it.

Building the document compiles every API model's pydantic schema — ~4.8 MB that a
worker keeps for the rest of its life (docs/performance.md, "Fourth round") to answer
a page that changes only when the code does. The document is a function of the code
alone, so it is stored under a fingerprint of exactly that: every source file of the
app, the versions of pydantic, and the API's URL rules as this process registered them
(so configuration that adds or removes an endpoint gets another document). Any edit
gives another fingerprint and the document is built afresh; nothing is ever read from a
file that does not match. `flask openapi write` builds it at deploy time (nixpacks's
build phase; `make bench` before it starts gunicorn), so no worker has to; when a disk
cannot be written the document is simply built in memory as before.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

APP_DIR = Path(__file__).resolve().parent.parent


def _directory(app: Flask) -> Path:
    return Path(app.instance_path) / "openapi"


def fingerprint(app: Flask) -> str:
    """A digest of everything the document is built from (computed once per app)."""
    known = app.extensions.get("kibray.openapi.fingerprint")
    if known:
        return known
    import pydantic
    import pydantic_core

    from app.core.openapi import api_endpoints

    digest = hashlib.sha256()
    digest.update(f"pydantic {pydantic.VERSION} core {pydantic_core.__version__}\n".encode())
    for path in sorted(APP_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(APP_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    for rule, _view in sorted(api_endpoints(app), key=lambda found: (found[0].rule, found[0].endpoint)):
        digest.update(f"{rule.rule} {rule.endpoint} {sorted(rule.methods)}\n".encode())
    known = app.extensions["kibray.openapi.fingerprint"] = digest.hexdigest()[:32]
    return known


def load(app: Flask) -> dict | None:
    """The stored document of this exact code, or None."""
    try:
        with open(_directory(app) / f"{fingerprint(app)}.json", "rb") as stored:
            return json.load(stored)
    except (OSError, ValueError):
        return None


def save(app: Flask, document: dict) -> Path | None:
    """Store the document (atomically: a reader never sees half a file); best effort."""
    directory = _directory(app)
    target = directory / f"{fingerprint(app)}.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / f".{target.name}.{os.getpid()}.tmp"
        partial.write_text(json.dumps(document, separators=(",", ":")))
        os.replace(partial, target)
        for old in directory.glob("*.json"):  # documents of earlier code are never read again
            if old != target:
                old.unlink(missing_ok=True)
    except OSError:
        return None
    return target


@click.group("openapi", help="The OpenAPI document kept on disk (instance/openapi/).")
def cli() -> None:
    pass


@cli.command("write")
@with_appcontext
def write_command() -> None:
    """Build the document and store it, so no worker has to build it (deploy step)."""
    from app.core.openapi import build_document

    app = current_app._get_current_object()
    stored = save(app, build_document(app))
    if stored is None:
        raise click.ClickException(f"could not write {_directory(app)}")
    click.echo(f"OpenAPI document written to {stored}")
