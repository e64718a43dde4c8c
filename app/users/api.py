"""/api/users/ (SPEC.md §4–5 "User (list)"): who a caller may pick as an assignee or
mention — everyone for an admin; for PMs, trainees and superintendents, the people of
their projects (team members, and employees assigned to the projects' tasks)."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from pydantic import Field

from app.core.api import paginate
from app.core.openapi import operation
from app.core.roles import ROLES
from app.core.schemas import ListQuery, Output, Text, request_query
from app.users import services

bp = Blueprint("users", __name__)


class UserQuery(ListQuery):
    search: Text(200) | None = Field(None, description="Words in the username, full name or email.")
    role: Text(40) | None = Field(None, description=f"Only this role: {', '.join(ROLES)}.")


class UserOut(Output):
    id: int
    username: str
    email: str
    full_name: str
    role: str
    is_active: bool


@bp.get("/users/")
@operation("List users you work with", returns=UserOut, paged=True, query=UserQuery)
def api_list():
    query = request_query()
    stmt = services.people_list(current_user, search=(query.search or "").strip(), role=query.role or "")
    return paginate(stmt, serialize_page=lambda rows: [services.person_json(r) for r in rows], rows=True)
