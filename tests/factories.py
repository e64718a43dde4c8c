"""Data builders for tests: real rows in the test database, flushed, never committed."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from app.auth.models import User
from app.auth.passwords import hash_password
from app.clients.models import Client
from app.core.roles import CLIENT
from app.extensions import db
from app.projects.models import Project, ProjectMembership

PASSWORD = "Paint&Stain1"
_HASH: list[str] = []
_seq = itertools.count(1)


def password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def make_client(**kwargs) -> Client:
    n = next(_seq)
    client = Client(
        name=kwargs.pop("name", f"Client {n}"), email=kwargs.pop("email", f"client{n}@example.com"), **kwargs
    )
    db.session.add(client)
    db.session.flush()
    return client


def make_user(role: str = "employee", **kwargs) -> User:
    n = next(_seq)
    if role == CLIENT and "client" not in kwargs and "client_id" not in kwargs:
        kwargs["client"] = make_client()
    user = User(
        username=kwargs.pop("username", f"{role.replace('_', '-')}-{n}"),
        email=kwargs.pop("email", f"{role}{n}@example.com"),
        full_name=kwargs.pop("full_name", f"{role.replace('_', ' ').title()} {n}"),
        role=role,
        password_hash=kwargs.pop("password_hash", password_hash()),
        **kwargs,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_project(client: Client | None = None, members=(), **kwargs) -> Project:
    n = next(_seq)
    start = kwargs.pop("start_date", date(2026, 3, 1))
    project = Project(
        name=kwargs.pop("name", f"Project {n}"),
        client=client or make_client(),
        address=kwargs.pop("address", f"{n} Main St"),
        city=kwargs.pop("city", "Austin"),
        budget=kwargs.pop("budget", Decimal("10000.00")),
        start_date=start,
        end_date=kwargs.pop("end_date", start + timedelta(days=30)),
        internal_notes=kwargs.pop("internal_notes", "margin target 30%"),
        **kwargs,
    )
    db.session.add(project)
    db.session.flush()
    for member in members:
        db.session.add(ProjectMembership(project_id=project.id, user_id=member.id))
    db.session.flush()
    db.session.refresh(project)
    return project
