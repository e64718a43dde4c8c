"""The one /api blueprint (app/api): every API route hangs off it, the probes are public
and never rate-limited, and nothing outside it decides "is this the API" by its path."""

from __future__ import annotations

import pathlib
import re

from app.core.features import NavEntry

APP = pathlib.Path(__file__).resolve().parent.parent / "app"


def test_health_probes_are_public_and_never_rate_limited(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ANONYMOUS", 1)
    for _ in range(3):
        for url in ("/api/health/db/", "/api/health/redis/"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert "X-RateLimit-Limit" not in response.headers
    # …while an ordinary anonymous call is counted and refused past the limit
    assert client.get("/api/auth/me/").status_code == 401
    assert client.get("/api/auth/me/").status_code == 429


def test_no_module_decides_by_the_api_path_itself():
    pattern = re.compile(r"""startswith\(\(?["']/api""")
    offenders = [str(p.relative_to(APP)) for p in APP.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_nav_entries_mark_themselves_active_by_endpoint():
    users = NavEntry("users", "Users", "users.index", active=("users.", "admin.team"))
    assert users.is_active("users.detail") and users.is_active("admin.team")
    assert not users.is_active("admin.audit")
    projects = NavEntry("projects", "Projects", "projects.index")
    assert projects.is_active("projects.edit") and not projects.is_active("clients.index")
    assert not NavEntry("jobs", "Jobs", url="/admin/rq/").is_active("admin.audit")
