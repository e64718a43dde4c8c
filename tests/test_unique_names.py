"""Uniqueness is decided by the database on a key Python computes (app/core/text.py):
names that only look different — another case in Greek or Turkish, NFD accents,
zero-width or bidirectional characters, doubled spaces — are the same name, refused
with the field's message (never a 500), and concurrent creates of one name leave
exactly one row."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import delete, func, select

from app.auth.models import User
from app.clients.models import Client
from app.core.errors import ValidationError
from app.core.text import name_key, normalise
from app.projects.models import Project
from tests.factories import make_client, make_user

# (stored first, then refused as the same name)
SAME_NAMES = [
    ("ΟΔΟΣ Painting", "ΟΔΟΣ Painting"),  # exactly the same: used to reach the index as a 500
    ("ΟΔΟΣ Painting", "οδος painting"),  # final sigma
    ("Σοφία", "ςοφία"),
    ("İzmir Homes", "i̇zmir homes"),  # dotted capital I and i + combining dot above
    ("José Ltd", "Jose\u0301 Ltd"),  # NFC vs NFD
    ("Ann Co", "Ann\u200d Co"),  # zero-width joiner
    ("Ann Co", "Ann\u200b\u200bCo".replace("\u200b\u200b", " \u200b")),  # zero-width space
    ("Ann Co", "Ann  Co"),  # double space
    ("Ann Co", "\u202eAnn Co\u202c"),  # bidirectional override
    ("Ann Co", "Ａｎｎ Ｃｏ"),  # full-width letters (NFKC)
]


def test_the_normaliser():
    assert normalise("  Ann\u200b \t Co\u202c ") == "Ann Co"
    assert normalise("Jose\u0301") == "José"
    assert name_key("ΟΔΟΣ") == name_key("οδος") == name_key("οδοσ")
    assert name_key("İ") == name_key("i̇")
    assert name_key("Straße") == name_key("STRASSE")


@pytest.mark.parametrize(("first", "second"), SAME_NAMES)
def test_client_names_that_only_look_different_are_refused_on_the_page(client, login_as, db, first, second):
    login_as("admin")
    assert client.post("/clients/new", data={"name": first}).status_code == 303
    before = db.session.scalar(select(func.count()).select_from(Client))
    response = client.post("/clients/new", data={"name": second})
    assert response.status_code == 422
    assert "already exists" in response.text
    assert db.session.scalar(select(func.count()).select_from(Client)) == before


@pytest.mark.parametrize(("first", "second"), SAME_NAMES)
def test_project_names_that_only_look_different_are_refused_by_the_api(client, db, first, second):
    from tests.conftest import bearer

    admin = make_user("admin")
    company = make_client()
    headers = bearer(client, admin)
    body = {"client_id": company.id, "location": {"address": "1 Main St"}}
    assert client.post("/api/projects/", json={**body, "name": first}, headers=headers).status_code == 201
    response = client.post("/api/projects/", json={**body, "name": second}, headers=headers)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert "already has a project named" in response.json["error"]["details"]["name"]
    assert db.session.scalar(select(func.count()).select_from(Project).where(Project.client_id == company.id)) == 1


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        (("dee", "dee@example.com"), ("DEE", "other@example.com"), "username"),
        (("dee", "ΟΔΟΣ@example.com"), ("dee2", "οδος@example.com"), "email"),
        (("dee", "josé@example.com"), ("dee2", "jose\u0301@EXAMPLE.com"), "email"),
        (("dee", "ann@example.com"), ("dee2", "ann\u200b@example.com"), "email"),
    ],
)
def test_usernames_and_emails_that_only_look_different_are_refused(db, first, second, field):
    from app.users.services import create_user

    admin = make_user("admin")
    create_user(admin, username=first[0], email=first[1], role="employee")
    with pytest.raises(ValidationError) as refused:
        create_user(admin, username=second[0], email=second[1], role="employee")
    assert set(refused.value.fields) == {field}


def test_stored_names_are_normalised(db):
    from app.clients.services import create_client

    admin = make_user("admin")
    created = create_client(admin, {"name": "  Ann\u200b  Co\u202c "})
    assert (created.name, created.name_key) == ("Ann Co", "ann co")


def test_the_index_has_the_last_word_and_the_request_goes_on(db, monkeypatch):
    """When the check in Python misses a clash (another request took the name since),
    the unique index refuses it inside a savepoint: the field error, and the session
    is still usable."""
    from app.clients import services

    admin = make_user("admin")
    services.create_client(admin, {"name": "Hughes"})
    monkeypatch.setattr(services, "name_key", lambda value: "no such key")  # the check sees nothing
    with pytest.raises(ValidationError) as refused:
        services.create_client(admin, {"name": "HUGHES"})
    assert refused.value.fields == {"name": "A client named 'HUGHES' already exists."}
    assert db.session.scalar(select(func.count()).select_from(Client).where(Client.name_key == "hughes")) == 1


def _race(app, attempts: int, create) -> list:
    """Run `create(i)` in `attempts` threads at once, each with its own app context and
    session, committing on real PostgreSQL; each result is "created" or the field errors."""
    from app.core.audit import acting_as
    from app.extensions import db

    barrier = threading.Barrier(attempts)
    results: list = [None] * attempts

    def run(i):
        with app.app_context():
            try:
                with acting_as("race", "admin"):
                    barrier.wait(timeout=10)
                    create(i)
                    db.session.commit()
                results[i] = "created"
            except ValidationError as exc:
                db.session.rollback()
                results[i] = exc.fields
            except Exception as exc:  # noqa: BLE001 - reported by the assertion
                db.session.rollback()
                results[i] = repr(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture()
def committed(app):
    """Rows committed for real (the race needs several connections); removed afterwards
    with the audit entries written meanwhile."""
    from app.core.audit import AuditLog
    from app.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        last_audit = db.session.scalar(select(func.max(AuditLog.id))) or 0
        admin = User(username=f"race-{tag}", email=f"race-{tag}@example.com", role="admin")
        company = Client(name=f"Race {tag}")
        db.session.add_all([admin, company])
        db.session.commit()
        ids = {"admin": admin.id, "client": company.id}
        db.session.remove()
    yield tag, ids
    with app.app_context():
        db.session.execute(delete(Project).where(Project.client_id == ids["client"]))
        db.session.execute(delete(User).where(User.username_key.like(f"%{tag}%")))
        db.session.execute(delete(Client).where(Client.name_key.like(f"%{tag}%")))
        db.session.execute(delete(AuditLog).where(AuditLog.id > last_audit))
        db.session.commit()
        db.session.remove()


ATTEMPTS = 8


def test_concurrent_client_creates_leave_one_row(app, committed):
    from app.clients.services import create_client
    from app.extensions import db

    tag, ids = committed
    spellings = [f"Oak {tag}", f"OAK {tag}", f"Oak  {tag}", f"O\u200bak {tag}"]

    def create(i):
        create_client(db.session.get(User, ids["admin"]), {"name": spellings[i % len(spellings)]})

    results = _race(app, ATTEMPTS, create)
    assert results.count("created") == 1, results
    assert all(r == "created" or set(r) == {"name"} for r in results), results
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Client).where(Client.name_key == f"oak {tag}"))
        assert count == 1


def test_concurrent_project_creates_leave_one_row(app, committed):
    from app.extensions import db
    from app.projects.services import create_project

    _tag, ids = committed

    def create(i):
        name = ["Deck stain", "DECK STAIN", "Deck\u200d stain", "Deck  stain"][i % 4]
        create_project(
            db.session.get(User, ids["admin"]), {"name": name, "client_id": ids["client"], "address": "1 Main St"}
        )

    results = _race(app, ATTEMPTS, create)
    assert results.count("created") == 1, results
    assert all(r == "created" or set(r) == {"name"} for r in results), results
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Project).where(Project.client_id == ids["client"])) == 1
        )


def test_concurrent_user_creates_leave_one_row(app, committed):
    from app.extensions import db
    from app.users.services import create_user

    tag, ids = committed

    def create(i):
        create_user(
            db.session.get(User, ids["admin"]),
            username=f"new-{tag}" if i % 2 else f"NEW-{tag}",
            email=f"new-{i}-{tag}@example.com" if i % 2 == 0 else f"New-{tag}@example.com",
            role="employee",
        )

    results = _race(app, ATTEMPTS, create)
    assert results.count("created") == 1, results
    assert all(r == "created" or set(r) <= {"username", "email"} for r in results), results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.username_key == f"new-{tag}")) == 1


def test_renaming_onto_a_look_alike_is_refused_too(client, login_as, db):
    login_as("admin")
    make_client(name="Hughes Residence")
    other = make_client(name="Ruiz")
    response = client.post(f"/clients/{other.id}/edit", data={"name": "HUGHES\u200b  residence"})
    assert response.status_code == 422
    assert "already exists" in response.text
    db.session.refresh(other)
    assert other.name == "Ruiz"


def test_sign_in_finds_the_account_by_the_same_key(db):
    user = make_user("employee", username="dee", email="Dee.Ölund@example.com")
    assert User.by_login(" DEE ") == user
    assert User.by_login("dee.ölund@EXAMPLE.com") == user
    assert User.by_login("Dee.O\u0308lund@example.com") == user  # NFD
    assert User.by_login("someone-else") is None
