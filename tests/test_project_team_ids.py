"""projects.team_ids (migration 0007): PostgreSQL keeps each project's team on the row,
whatever changes the memberships — the ORM, a bulk statement, a changed membership, a
deleted user or project — and a PM's list, search and PM filter read it; a change to a
team makes the cached reads of projects stale, as the triggers' write to projects does."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, insert, select, text, update

from app.core.cached_reads import count_of
from app.core.permissions import has_in_list
from app.extensions import db
from app.projects import queries
from app.projects.models import Project, ProjectMembership
from tests.factories import make_client, make_project, make_user


def _team(project_id: int) -> list[int]:
    return db.session.execute(text("SELECT team_ids FROM projects WHERE id = :id"), {"id": project_id}).scalar_one()


def _disagreeing() -> int:
    """Projects whose team_ids differ from their memberships (must be none, always)."""
    return db.session.execute(
        text(
            "SELECT count(*) FROM projects p WHERE p.team_ids <> coalesce((SELECT array_agg(m.user_id "
            "ORDER BY m.user_id) FROM project_memberships m WHERE m.project_id = p.id), '{}')"
        )
    ).scalar_one()


def test_every_way_of_changing_a_team_keeps_team_ids(db):
    first, second, third = (make_user("project_manager_full") for _ in range(3))
    project, other = make_project(members=[first]), make_project()
    assert _team(project.id) == [first.id] and _team(other.id) == []
    # the ORM (the services' way)
    db.session.add(ProjectMembership(project_id=project.id, user_id=second.id))
    db.session.flush()
    assert _team(project.id) == sorted([first.id, second.id])
    # one statement for several projects (the demo seed's way)
    db.session.execute(
        insert(ProjectMembership),
        [{"project_id": project.id, "user_id": third.id}, {"project_id": other.id, "user_id": third.id}],
    )
    assert _team(project.id) == sorted([first.id, second.id, third.id]) and _team(other.id) == [third.id]
    # a membership moved to another project: both rows follow
    db.session.execute(
        update(ProjectMembership)
        .where(ProjectMembership.project_id == project.id, ProjectMembership.user_id == second.id)
        .values(project_id=other.id)
    )
    assert _team(project.id) == sorted([first.id, third.id]) and _team(other.id) == sorted([second.id, third.id])
    # removed
    db.session.execute(delete(ProjectMembership).where(ProjectMembership.user_id == first.id))
    assert _team(project.id) == [third.id]
    # a deleted user's memberships go by cascade, and with them the id
    db.session.execute(text("DELETE FROM users WHERE id = :id"), {"id": third.id})
    assert _team(project.id) == [] and _team(other.id) == [second.id]
    assert _disagreeing() == 0


def test_a_pms_list_search_and_filter_read_the_team_column(db):
    pm, other_pm = make_user("project_manager_full"), make_user("project_manager_full")
    painter = make_user("employee")
    tag = uuid.uuid4().hex[:8]
    mine = make_project(name=f"Oak deck {tag}", members=[pm, painter])
    theirs = make_project(name=f"Oak fence {tag}", members=[other_pm, painter])
    filters = queries.ProjectFilters(search=f"oak deck {tag}")
    stmt = queries.project_list(pm, queries.ProjectFilters(search=tag), shape="page")
    assert "team_ids @> ARRAY[" in str(stmt.compile(dialect=db.engine.dialect))
    assert [row.id for row in db.session.execute(stmt)] == [mine.id]
    assert [row.id for row in db.session.execute(queries.project_list(pm, filters, shape="page"))] == [mine.id]
    admin = make_user("admin")
    by_pm = queries.ProjectFilters(search=tag, pm_id=other_pm.id)
    assert [row.id for row in db.session.execute(queries.project_list(admin, by_pm, shape="page"))] == [theirs.id]
    # only PM roles count for the PM filter: a painter manages nothing
    by_painter = queries.ProjectFilters(search=tag, pm_id=painter.id)
    assert list(db.session.execute(queries.project_list(admin, by_painter, shape="page"))) == []


def test_a_team_change_makes_the_cached_totals_of_projects_stale(app):
    """A PM's list total reads only projects (team_ids): the triggers' write to projects
    must raise its generation like a write to project_memberships does."""
    from app.core.models import utcnow

    started = utcnow()
    with app.test_request_context("/"):
        db.session.remove()
        username, name = f"pm-{uuid.uuid4().hex[:8]}", f"Stale total {uuid.uuid4().hex[:8]}"
        pm = make_user("project_manager_full", username=username)
        project = make_project(name=name, client=make_client(name=f"Client of {name}"))
        db.session.commit()
        pm_id, project_id, client_id = pm.id, project.id, project.client_id
        try:
            stmt = queries.project_list(pm, queries.ProjectFilters(status="all"), shape="page")
            assert count_of(stmt, db.session) == 0
            db.session.remove()
            db.session.add(ProjectMembership(project_id=project_id, user_id=pm_id))
            db.session.commit()
            db.session.remove()  # back to the pool: the generations rise
            assert count_of(stmt, db.session) == 1
            # a deleted user leaves every team by cascade: the triggers rewrite projects
            on_teams = select(Project.id).where(has_in_list(Project.team_ids, pm_id))
            assert count_of(on_teams, db.session) == 1
            db.session.execute(text("DELETE FROM users WHERE id = :id"), {"id": pm_id})
            db.session.commit()
            db.session.remove()
            assert count_of(on_teams, db.session) == 0
        finally:
            db.session.rollback()
            _delete_committed(project_id, client_id, [pm_id], started)


def _delete_committed(project_id: int, client_id: int, user_ids: list[int], started) -> None:
    """Delete what a test committed for real, and its audit entries (other tests count them)."""
    from app.core.audit import AuditLog

    db.session.execute(delete(Project).where(Project.id == project_id))
    db.session.execute(text("DELETE FROM users WHERE id = ANY(:ids)"), {"ids": user_ids})
    db.session.execute(text("DELETE FROM clients WHERE id = :id"), {"id": client_id})
    db.session.execute(delete(AuditLog).where(AuditLog.created_at >= started))
    db.session.commit()
    db.session.remove()


def test_the_column_is_never_loaded_with_a_project(db):
    project = make_project()
    db.session.expire_all()
    loaded = db.session.scalar(select(Project).where(Project.id == project.id))
    assert "team_ids" not in loaded.__dict__


def _raw(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


@pytest.mark.parametrize("first, second", [("add", "remove"), ("remove", "add")])
def test_two_transactions_changing_one_team_at_once_leave_it_right(app, first, second):
    """Two transactions change the same project's team at once (one adds a member, the
    other removes one); whichever commits first, team_ids ends equal to the memberships:
    each trigger locks the project, then recomputes with a snapshot taken after the lock."""
    import threading

    from app.core.models import utcnow

    url, started, tag = app.config["SQLALCHEMY_DATABASE_URI"], utcnow(), uuid.uuid4().hex[:8]
    with app.test_request_context("/"):
        db.session.remove()
        first_pm = make_user("project_manager_full", username=f"race-1-{tag}")
        second_pm = make_user("project_manager_full", username=f"race-2-{tag}")
        project = make_project(name=f"Race {tag}", client=make_client(name=f"Race {tag}"), members=[first_pm])
        db.session.commit()
        users, project_id, client_id = [first_pm.id, second_pm.id], project.id, project.client_id
        db.session.remove()
    setup = _raw(url)

    def change(conn, how):
        if how == "add":
            conn.execute(
                "INSERT INTO project_memberships (project_id, user_id) VALUES (%s, %s)", (project_id, users[1])
            )
        else:
            conn.execute(
                "DELETE FROM project_memberships WHERE project_id = %s AND user_id = %s", (project_id, users[0])
            )

    one, two = _raw(url), _raw(url)
    try:
        change(one, first)  # not committed yet: holds the project's lock
        waiting = threading.Thread(target=lambda: (change(two, second), two.commit()))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive()  # the second waits for the first's lock on the project
        one.commit()
        waiting.join(10)
        assert not waiting.is_alive()
        members = setup.execute(
            "SELECT coalesce(array_agg(user_id ORDER BY user_id), '{}') FROM project_memberships WHERE project_id = %s",
            (project_id,),
        ).fetchone()[0]
        team = setup.execute("SELECT team_ids FROM projects WHERE id = %s", (project_id,)).fetchone()[0]
        assert members == [users[1]] and team == members
    finally:
        for conn in (one, two):
            conn.rollback()
            conn.close()
        setup.close()
        with app.test_request_context("/"):
            _delete_committed(project_id, client_id, users, started)
