"""The home page's project counters are a cached aggregate (app/projects/counts.py on
core.cached_reads): served from the cache while nothing changes, recomputed after any
committed project, team or client write, and never shared across permission scopes.

The caching tests commit for real (the cache trusts only generations that committed
writes raise; the `db` fixture's transaction never commits, so there every write of the
test makes the page read the database) and delete what they made."""

from __future__ import annotations

import re

import pytest

from app.core.roles import ADMIN, CLIENT, PROJECT_MANAGER
from tests.factories import make_client, make_project, make_user


def _counters(html: str) -> list[int]:
    found = [int(n) for n in re.findall(r'<span class="stat-n">(\d+)</span>', html)]
    assert found, f"no counters on the page:\n{html[:2000]}"
    return found


def _count_statements(statements) -> int:
    return sum("count(" in s.lower() and "group by" in s.lower() for s in statements)


@pytest.fixture()
def committed(app):
    """An admin, a company and an active project, committed; deleted afterwards."""
    from sqlalchemy import delete

    from app.auth.models import User
    from app.clients.models import Client
    from app.core.audit import AuditLog
    from app.extensions import db as _db
    from app.projects.models import Project

    made = {"projects": [], "clients": [], "users": []}
    with app.app_context():
        admin = make_user(ADMIN)
        company = make_client(name=f"Alder Homes {admin.id}")
        project = make_project(client=company, name=f"Porch of the week {admin.id}", status="active")
        _db.session.commit()
        made["users"].append(admin.id)
        made["clients"].append(company.id)
        made["projects"].append(project.id)
        world = {"admin": admin.id, "admin_session": admin.get_id(), "client": company.id, "name": company.name}
        _db.session.remove()
    yield world, made
    with app.app_context():
        labels = [str(i) for ids in made.values() for i in ids]
        _db.session.execute(delete(Project).where(Project.id.in_(made["projects"])))
        _db.session.execute(delete(Client).where(Client.id.in_(made["clients"])))
        _db.session.execute(delete(User).where(User.id.in_(made["users"])))
        _db.session.execute(delete(AuditLog).where(AuditLog.object_id.in_(labels)))
        _db.session.execute(delete(AuditLog).where(AuditLog.user_id.in_(made["users"])))
        _db.session.commit()
        _db.session.remove()


def _browser(app, session_id):
    web = app.test_client()
    with web.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return web


def _statements(app):
    from sqlalchemy import event

    from app.extensions import db as _db

    seen: list[str] = []
    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_the_card_comes_from_the_cache_until_a_project_changes(app, committed):
    from app.extensions import db as _db

    world, made = committed
    web = _browser(app, world["admin_session"])
    first = _counters(web.get("/").get_data(as_text=True))
    seen = _statements(app)
    again = _counters(web.get("/").get_data(as_text=True))
    assert again == first
    assert _count_statements(seen) == 0  # no count, and no project query at all
    assert not [s for s in seen if "from projects" in s.lower()]

    with app.app_context():
        added = make_project(status="active")
        made["projects"].append(added.id)
        made["clients"].append(added.client_id)
        _db.session.commit()
        _db.session.remove()
    seen.clear()
    after = _counters(web.get("/").get_data(as_text=True))
    assert after[1] == first[1] + 1
    assert _count_statements(seen) == 1


def test_a_bulk_statement_makes_the_next_page_recompute(app, committed):
    from sqlalchemy import update

    from app.extensions import db as _db
    from app.projects.models import Project

    world, made = committed
    web = _browser(app, world["admin_session"])
    first = _counters(web.get("/").get_data(as_text=True))
    with app.app_context():
        _db.session.execute(update(Project).where(Project.id == made["projects"][0]).values(status="closed"))
        _db.session.commit()
        _db.session.remove()
    after = _counters(web.get("/").get_data(as_text=True))
    assert after[1] == first[1] - 1


def test_the_recent_projects_follow_a_committed_client_rename(app, committed):
    from app.clients.models import Client
    from app.extensions import db as _db

    world, made = committed
    web = _browser(app, world["admin_session"])
    assert world["name"] in web.get("/").get_data(as_text=True)
    with app.app_context():
        _db.session.get(Client, world["client"]).name = f"Birch Homes {world['admin']}"
        _db.session.commit()
        _db.session.remove()
    page = web.get("/").get_data(as_text=True)
    assert f"Birch Homes {world['admin']}" in page and world["name"] not in page


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
