"""Static files complete, and served as the caches expect.

1. Every static file the templates reference exists under static/: `url_for('static',
   filename=…)`, `static_url(…)` and literal `/static/…` paths in templates/, literal
   `/static/…` paths in static/ itself (JavaScript, CSS), and every `url(…)` inside the
   style sheets, vendored ones included (resolved against the sheet's own folder).
2. Each referenced file's fingerprinted URL (app/core/assets.py) answers 200 with
   `Cache-Control: public, max-age=31536000, immutable`, and its plain URL 200 with a short
   cache — asked of the app itself (Flask's test client; no database or Redis needed).

Prints each missing file with where it is referenced; exit status 1 if any is missing or
served wrong. `python scripts/check_static.py [ROOT]` (default: this checkout)."""

from __future__ import annotations

import os
import re
import sys

HERE = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))

TEMPLATE_REFS = (
    re.compile(r"""url_for\(\s*['"]static['"]\s*,\s*filename\s*=\s*['"]([^'"]+)['"]"""),
    re.compile(r"""static_url\(\s*['"]([^'"]+)['"]"""),
)
LITERAL = re.compile(r"""(?<![\w.])/static/([\w./-]+\.\w+)""")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)""")


def references(root: str) -> dict[str, set[str]]:
    """{static file name: {where it is referenced, …}}."""
    found: dict[str, set[str]] = {}

    def add(name: str, where: str) -> None:
        found.setdefault(name.split("?")[0].split("#")[0], set()).add(where)

    templates = os.path.join(root, "templates")
    for folder, _dirs, files in os.walk(templates):
        for filename in files:
            path = os.path.join(folder, filename)
            where = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            for pattern in (*TEMPLATE_REFS, LITERAL):
                for ref in pattern.findall(text):
                    add(ref, where)
    static = os.path.join(root, "static")
    for folder, _dirs, files in os.walk(static):
        for filename in files:
            if not filename.endswith((".css", ".js")):
                continue
            path = os.path.join(folder, filename)
            where = os.path.relpath(path, root)
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            for ref in LITERAL.findall(text):
                add(ref, where)
            if filename.endswith(".css"):
                for ref in CSS_URL.findall(text):
                    ref = ref.strip()
                    if ref.startswith(("data:", "http:", "https:", "//", "#", "about:")):
                        continue
                    if ref.startswith("/static/"):
                        continue  # a literal, counted above
                    target = os.path.normpath(os.path.join(folder, ref.split("?")[0].split("#")[0]))
                    add(os.path.relpath(target, static).replace(os.sep, "/"), where)
    return found


def served_problems(root: str, names: list[str]) -> list[str]:
    """Each name's fingerprinted URL: 200 and a year-long immutable cache; the plain URL: 200."""
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)  # the app embedded: serving static files needs no service
    sys.path.insert(0, root)
    from flask import url_for

    from app import create_app
    from app.core.assets import IMMUTABLE_SECONDS

    app = create_app({"DATABASE_URL": None, "REDIS_URL": None, "LOG_LEVEL": "WARNING"}, env_name="test")
    client = app.test_client()
    problems = []
    for name in names:
        with app.test_request_context():
            url = url_for("static", filename=name)
        if url == f"/static/{name}":
            problems.append(f"static/{name}: url_for('static') does not fingerprint it")
            continue
        answer = client.get(url)
        answer.close()
        cache = answer.headers.get("Cache-Control", "")
        if answer.status_code != 200:
            problems.append(f"{url}: answered {answer.status_code}")
        elif f"max-age={IMMUTABLE_SECONDS}" not in cache or "immutable" not in cache or "public" not in cache:
            problems.append(f"{url}: Cache-Control is {cache!r}, not a year-long public immutable cache")
        plain = client.get(f"/static/{name}")
        plain.close()
        if plain.status_code != 200 or "immutable" in plain.headers.get("Cache-Control", ""):
            problems.append(
                f"/static/{name}: the plain URL answered {plain.status_code} {plain.headers.get('Cache-Control')!r}"
            )
    return problems


def missing_files(root: str, refs: dict[str, set[str]]) -> list[str]:
    return sorted(name for name in refs if not os.path.isfile(os.path.join(root, "static", name)))


def main(argv: list[str]) -> int:
    root = os.path.abspath(argv[1]) if len(argv) > 1 else HERE
    refs = references(root)
    missing = missing_files(root, refs)
    for name in missing:
        print(f"  missing static/{name} (referenced by {', '.join(sorted(refs[name]))})")
    present = sorted(set(refs) - set(missing))
    problems = served_problems(root, present)
    for problem in problems:
        print(f"  {problem}")
    if not missing and not problems:
        places = len({where for wheres in refs.values() for where in wheres})
        print(
            f"static files: {len(refs)} files referenced from {places} templates and style sheets, all present; "
            f"each served fingerprinted with Cache-Control: public, max-age=31536000, immutable"
        )
    return 1 if missing or problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
