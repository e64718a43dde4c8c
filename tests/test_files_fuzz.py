"""Schemathesis on the document endpoints only (/api/files/…), with an administrator's and
a client's token: the same checks as tests/test_api_fuzz.py (which runs every endpoint),
here with documents present to find, share and delete."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import bearer
from tests.factories import make_document, make_project, make_user
from tests.test_api_fuzz import CHECKS, api_schema, example_rolled_back, forget_audit_entries_of_the_run  # noqa: F401

schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=r"^/api/files/")


@pytest.fixture(params=["admin", "client"])
def files_user(request, db):
    user = make_user(request.param)
    admin = make_user("admin")
    project = make_project(client=user.client) if user.client else make_project(members=[user])
    make_document(admin, project=project, name="Shared.pdf", is_client_visible=True)
    make_document(admin, project=project, name="Internal.pdf")
    make_document(admin, project=make_project(), name="Elsewhere.pdf", is_client_visible=True)
    return SimpleNamespace(username=user.username)


@pytest.mark.usefixtures("files_user")
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@schema.parametrize()
def test_the_files_api_keeps_to_its_document(case, files_user, client, db):
    if not hasattr(files_user, "headers"):
        files_user.headers = bearer(client, files_user)
    with example_rolled_back(db):
        case.call_and_validate(session=client, headers=files_user.headers, checks=CHECKS)
