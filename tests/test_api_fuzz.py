"""Schemathesis fuzzes every operation of /api/openapi.json, valid and invalid input, with an
administrator's token and a client's: no answer may be a server error or contradict the
document (status, content type, headers, body shape), and invalid input must be refused.

Runs in-process (WSGI) on the test database, inside the test's rolled-back transaction, so
what the fuzzer creates (projects, failed sign-ins…) is gone afterwards. Every later
module's endpoints join the document, and so this run, by declaring `@operation`."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import schemathesis
from _pytest.nodes import Node
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import bearer
from tests.factories import make_project, make_user

# schemathesis 4.32's lazy (fixture-loaded) schema reads and writes `node._nodeid`, which
# pytest 9.2 replaced by `_id`; this property restores the old name for it.
if not hasattr(Node, "_nodeid"):
    from _pytest.nodeid import coerce_node_id

    Node._nodeid = property(lambda self: str(self._id), lambda self, value: setattr(self, "_id", coerce_node_id(value)))

CHECKS = [
    not_a_server_error,  # no 5xx, and no unhandled exception (re-raised with its traceback)
    status_code_conformance,  # every status answered is documented for the operation
    content_type_conformance,  # every answer is the documented media type
    response_headers_conformance,  # documented headers are present and well-formed
    response_schema_conformance,  # every body matches its documented schema
    negative_data_rejection,  # input the document calls invalid is refused (4xx)
]
# Not run: positive_data_acceptance (valid-shaped input may still break a business rule —
# an unknown client, an end before the start — which is a 400), and the stateful checks.


@pytest.fixture()
def forget_audit_entries_of_the_run(app):
    """Refusals and failed sign-ins are audited in their own committed transaction, so a
    fuzzing run leaves hundreds; remove this run's afterwards, so later tests on this
    worker's database do not page through them."""
    from sqlalchemy import create_engine, text

    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        start = connection.scalar(text("SELECT coalesce(max(id), 0) FROM audit_log"))
    yield
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id > :start"), {"start": start})
    engine.dispose()


@pytest.fixture()
def api_schema(app, forget_audit_entries_of_the_run, db):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    # The test sends each role's bearer token itself: cases that only drop or spoil the
    # Authorization header would be answered as that role, not as the "negative" they are.
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], with_security_parameters=False
    )
    return schema


# The operations in groups, each group in a test transaction of its own: one transaction
# fuzzing all of them held more locks than PostgreSQL's default lock table (out of shared
# memory) once the money endpoints of issue 13 joined. A new path prefix falls in "rest".
GROUPS = {
    "people_and_schedule": r"^/api/(auth|calendar|health|openapi|users|notifications)",
    "client_work": r"^/api/(change-orders|clients|daily-logs|estimates|files|photos|project-templates)/",
    "field": r"^/api/(projects|tasks|timeclock)/",
    "invoices": r"^/api/financials/invoices/",
    "money_out": r"^/api/financials/(?!invoices/)",
}
SCHEMAS = {name: schemathesis.pytest.from_fixture("api_schema").include(path_regex=rx) for name, rx in GROUPS.items()}


@pytest.fixture(params=["admin", "client"])
def role_user(request, db):
    """A user of the role, with something to see: a project the client's company owns."""
    user = make_user(request.param)
    make_project(client=user.client) if user.client else make_project(members=[user])
    make_project()
    return SimpleNamespace(username=user.username)  # plain data: each example ends its session


@contextmanager
def example_rolled_back(db):
    """Each example's writes undone: PostgreSQL slows down sharply once one transaction
    holds more than 64 subtransactions (every request's commit is one here), and a
    subtransaction rolled back no longer counts."""
    db.session.commit()  # the fixtures' rows stay (the test's outer transaction holds them)
    example = db.engines[None].begin_nested()
    try:
        yield
    finally:
        db.session.remove()  # its own savepoints sit inside ours
        if example.is_active:
            example.rollback()


FUZZ = settings(
    max_examples=30,  # per operation, for the random stage (the coverage stage adds its own)
    derandomize=True,  # the same cases every run: CI is a gate, not a lottery
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def keeps_to_its_document(case, role_user, client, db):
    if not hasattr(role_user, "headers"):
        role_user.headers = bearer(client, role_user)  # kept: signed in before the examples
    with example_rolled_back(db):
        # Signing out ends the token it is sent with: it gets one of its own.
        signs_out = case.operation.path == "/api/auth/logout/"
        headers = bearer(client, role_user) if signs_out else role_user.headers
        case.call_and_validate(session=client, headers=headers, checks=CHECKS)


def _fuzz_test(name):
    @pytest.mark.usefixtures("role_user")
    @FUZZ
    @SCHEMAS[name].parametrize()
    def test(case, role_user, client, db):
        keeps_to_its_document(case, role_user, client, db)

    test.__name__ = f"test_the_api_keeps_to_its_document_{name}"
    return test


test_the_api_keeps_to_its_document_people_and_schedule = _fuzz_test("people_and_schedule")
test_the_api_keeps_to_its_document_client_work = _fuzz_test("client_work")
test_the_api_keeps_to_its_document_field = _fuzz_test("field")
test_the_api_keeps_to_its_document_invoices = _fuzz_test("invoices")
test_the_api_keeps_to_its_document_money_out = _fuzz_test("money_out")


def test_every_operation_is_in_exactly_one_group(app):
    import re

    paths = app.test_client().get("/api/openapi.json").json["paths"]
    for path in paths:
        assert sum(bool(re.match(rx, path)) for rx in GROUPS.values()) == 1, path
