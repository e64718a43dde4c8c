"""Services never need a request: the membership and notification services run from a
worker job and from a CLI command; a failed attempt() leaves the rest of the work."""

from __future__ import annotations

import click
from flask import has_request_context
from flask.cli import with_appcontext
from sqlalchemy import select

from app.notifications.models import Notification
from app.notifications.services import notify
from app.projects import services as projects
from app.projects.models import ProjectMembership
from tests.factories import make_project, make_user
from workers.base import job


def _assign(actor_id: int, project_id: int, user_id: int) -> int:
    """Put a person on a project team and tell someone, as a job or a command would."""
    from app.auth.models import User
    from app.extensions import db
    from app.projects.models import Project

    assert not has_request_context()
    actor, user = db.session.get(User, actor_id), db.session.get(User, user_id)
    project = db.session.get(Project, project_id)
    projects.add_member(actor, project, user)
    note = notify(actor, "system", f"{user.name} joined {project.name}", "projects.detail", {"project_id": project_id})
    return note.id


@job
def assign_member(actor_id: int, project_id: int, user_id: int) -> int:
    return _assign(actor_id, project_id, user_id)


@click.command("assign-member")
@click.argument("actor_id", type=int)
@click.argument("project_id", type=int)
@click.argument("user_id", type=int)
@with_appcontext
def assign_member_command(actor_id, project_id, user_id):
    click.echo(_assign(actor_id, project_id, user_id))


def _check(db, project, designer):
    membership = db.session.scalar(
        select(ProjectMembership).where(
            ProjectMembership.project_id == project.id, ProjectMembership.user_id == designer.id
        )
    )
    assert membership is not None
    told = db.session.scalars(select(Notification).where(Notification.user_id == designer.id)).all()
    assert [(n.kind, n.link_endpoint, n.link_args) for n in told] == [
        ("project_assigned", "projects.detail", {"project_id": project.id})
    ]


def test_membership_and_notification_services_run_in_a_worker_job(app, db):
    admin, designer = make_user("admin"), make_user("designer")
    project = make_project(name="Job-made team")
    note_id = assign_member(admin.id, project.id, designer.id)
    assert db.session.get(Notification, note_id).link_args == {"project_id": project.id}
    _check(db, project, designer)


def test_membership_and_notification_services_run_in_a_cli_command(app, db):
    admin, designer = make_user("admin"), make_user("designer")
    project = make_project(name="Command-made team")
    result = app.test_cli_runner().invoke(assign_member_command, [str(admin.id), str(project.id), str(designer.id)])
    assert result.exit_code == 0, result.output
    _check(db, project, designer)


def test_a_failed_attempt_undoes_its_writes_and_side_effects_only(app, db):
    from app.core.errors import ValidationError
    from app.core.transaction import _KEY, after_commit, attempt
    from app.extensions import db as _db

    admin, designer = make_user("admin"), make_user("designer")
    project = make_project(name="Attempted", members=[designer])
    kept = make_project(name="Kept")
    after_commit(lambda: None)
    queued = len(_db.session.info[_KEY])
    try:
        with attempt():
            project.description = "half-way"
            _db.session.flush()
            after_commit(lambda: None)  # e.g. a live event of the half-done change
            projects.add_member(admin, project, designer)  # already on it: ValidationError
    except ValidationError:
        pass
    else:
        raise AssertionError("expected a ValidationError")
    assert len(_db.session.info[_KEY]) == queued  # nothing queued inside survives
    assert project.description == ""  # rolled back (reloaded)
    assert _db.session.get(type(kept), kept.id) is kept  # earlier work intact


def test_side_effects_wait_for_the_real_commit_not_a_released_savepoint(app, db):
    """attempt() releases a savepoint, which SQLAlchemy also reports as a commit: a live
    event sent then reached the board before the change was committed (the board read the
    old state, ~1 browser run in 6). Side effects run at the transaction's own commit."""
    from app.core.transaction import after_commit, attempt
    from app.extensions import db as _db

    ran = []
    with attempt():
        after_commit(lambda: ran.append("sent"))
    assert ran == []  # released, not committed
    with attempt(), attempt():  # a savepoint inside a savepoint
        after_commit(lambda: ran.append("inner"))
    assert ran == []
    _db.session.commit()
    assert ran == ["sent", "inner"]
