"""The API fuzz of tests/test_api_fuzz.py, on /api/timeclock/ only — with a staff user
who may punch (an employee on a task), an admin and a client: quick to run while the
time clock changes; the whole document is fuzzed there."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import bearer
from tests.factories import make_project, make_user
from tests.test_api_fuzz import CHECKS, api_schema, example_rolled_back, forget_audit_entries_of_the_run  # noqa: F401

schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex="^/api/timeclock/")


@pytest.fixture(params=["admin", "employee", "client"])
def punch_user(request, db):
    from app.tasks.models import Task, TaskAssignment

    user = make_user(request.param)
    project = make_project(client=user.client) if user.client else make_project()
    task = Task(project_id=project.id, title="Prime the trim")
    db.session.add(task)
    db.session.flush()
    if request.param == "employee":
        db.session.add(TaskAssignment(task_id=task.id, user_id=user.id))
        db.session.flush()
    return SimpleNamespace(username=user.username)


@pytest.mark.usefixtures("punch_user")
@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@schema.parametrize()
def test_the_timeclock_api_keeps_to_its_document(case, punch_user, client, db):
    if not hasattr(punch_user, "headers"):
        punch_user.headers = bearer(client, punch_user)
    with example_rolled_back(db):
        case.call_and_validate(session=client, headers=punch_user.headers, checks=CHECKS)
