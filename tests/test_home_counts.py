"""The home page's project counters are a cached aggregate (app/projects/counts.py):
served from Redis while nothing changes, recomputed after any project or team write,
and never shared across permission scopes."""

from __future__ import annotations

import re

from app.core.roles import ADMIN, CLIENT, PROJECT_MANAGER
from app.projects import counts
from tests.factories import make_client, make_project, make_user


def _counters(html: str) -> list[int]:
    found = [int(n) for n in re.findall(r'<span class="stat-n">(\d+)</span>', html)]
    assert found, f"no counters on the page:\n{html[:2000]}"
    return found


def _count_statements(statements) -> int:
    return sum("count(" in s.lower() and "group by" in s.lower() for s in statements)


def test_the_counts_come_from_the_cache_until_a_project_changes(client, login_as, db, count_queries):
    admin = login_as(ADMIN)
    make_project(status="active")
    first = _counters(client.get("/").get_data(as_text=True))
    with count_queries() as counted:
        again = _counters(client.get("/").get_data(as_text=True))
    assert again == first
    assert _count_statements(counted.statements) == 0  # served from Redis

    make_project(status="active")  # an ORM write bumps the generation
    with count_queries() as counted:
        after = _counters(client.get("/").get_data(as_text=True))
    assert after[1] == first[1] + 1
    assert _count_statements(counted.statements) == 1
    assert counts.status_counts(admin)["active"] == after[1]


def test_a_page_write_is_counted_at_once(client, login_as, db):
    login_as(ADMIN)
    company = make_client()
    pm = make_user(PROJECT_MANAGER)
    before = _counters(client.get("/").get_data(as_text=True))
    answer = client.post(
        "/projects",
        data={
            "name": "Fresh deck",
            "client_id": company.id,
            "address": "1 Oak St",
            "pm_ids_field": "1",
            "pm_ids": pm.id,
        },
    )
    assert answer.status_code in (200, 303)
    after = _counters(client.get("/").get_data(as_text=True))
    assert sum(after) == sum(before) + 1


def test_bulk_statements_bump_the_generation_too(app, db):
    from sqlalchemy import update

    from app.extensions import db as _db
    from app.extensions import redis_store
    from app.projects.models import Project

    key = counts._generation_key()
    before = int(redis_store.client.get(key) or 0)
    _db.session.execute(update(Project).where(Project.id == -1).values(city="x"))
    assert int(redis_store.client.get(key) or 0) > before


def test_each_scope_has_its_own_entry(client, login_as, db):
    """A client's counters are their company's, never the admins' cached ones."""
    theirs = make_client()
    make_project(client=theirs, status="active")
    for _ in range(3):
        make_project(status="active")
    login_as(ADMIN)
    assert _counters(client.get("/").get_data(as_text=True))[1] >= 4
    login_as(make_user(CLIENT, client=theirs))
    assert _counters(client.get("/").get_data(as_text=True)) == [0, 1, 0]
    other = make_client()
    login_as(make_user(CLIENT, client=other))
    assert _counters(client.get("/").get_data(as_text=True)) == [0, 0, 0]


def test_the_recent_projects_are_cached_with_the_counters_and_follow_a_client_rename(
    client, login_as, db, count_queries
):
    """The card's "Recently updated" list is part of the cached entry (no project query
    while nothing changes) and shows the client's current name after a rename."""
    login_as(ADMIN)
    company = make_client(name="Alder Homes")
    make_project(client=company, name="Porch of the week", status="active")
    assert "Alder Homes" in client.get("/").get_data(as_text=True)
    with count_queries() as counted:
        page = client.get("/").get_data(as_text=True)
    assert "Porch of the week" in page
    assert not [s for s in counted.statements if "from projects" in s.lower()]

    company.name = "Birch Homes"
    db.session.flush()  # a client write bumps the generation too
    page = client.get("/").get_data(as_text=True)
    assert "Birch Homes" in page and "Alder Homes" not in page
