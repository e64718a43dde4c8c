"""Schema only through migrations: a fresh database upgrades to head, every migration
downgrades, and the models have no change that lacks a migration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app import create_app
from app.core.migrations import init_migrate
from scripts.pgtools import drop_database, recreate_database

# The issue-5 data tests insert rows by hand, as the schema was then; later revisions
# (0005's NOT NULL name keys) are tested on their own below.
ISSUE_5_HEAD = "0003_notification_links"


@pytest.fixture()
def scratch_database(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not url.drivername.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    scratch = url.set(database=f"{url.database}_migrations_{os.getpid()}").render_as_string(hide_password=False)
    recreate_database(scratch)
    yield scratch
    drop_database(scratch)


def test_upgrade_downgrade_upgrade_and_no_pending_changes(scratch_database):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_database}, env_name="test")
    init_migrate(app)  # flask_migrate.upgrade() below needs it (app/core/migrations.py)
    with app.app_context():
        upgrade()
        assert "projects" in inspect(db.engine).get_table_names()
        downgrade(revision="base")
        assert inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)
        assert diff == [], f"models changed without a migration: {diff}"
        db.engine.dispose()


def test_issue_5_migrations_carry_existing_rows(scratch_database):
    """0002 tidies names and makes them unique per client; 0003 turns stored project URLs
    into endpoint + arguments (and back on downgrade)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_database}, env_name="test")
    init_migrate(app)  # flask_migrate.upgrade() below needs it (app/core/migrations.py)
    with app.app_context():
        upgrade(revision="0001_foundation")
        with db.engine.begin() as conn:
            stamp = "now(), now()"
            conn.execute(
                text(
                    f"INSERT INTO clients VALUES (1,'Hughes','','','','','','',NULL,'',{stamp}), (2,'Ruiz','','','','','','',NULL,'',{stamp})"
                )
            )  # noqa: E501,S608
            conn.execute(
                text(
                    f"INSERT INTO projects (id, name, description, client_id, status, address, city, state, zip, progress_percent, notes, internal_notes, created_at, updated_at) VALUES (7, '  Deck   stain ', '', 1, 'created', '1 A St', '', '', '', 0, '', '', {stamp})"
                )
            )  # noqa: E501,S608
            conn.execute(
                text(
                    f"INSERT INTO users (id, username, email, full_name, role, is_active, must_change_password, session_epoch, created_at, updated_at) VALUES (3, 'dee', 'dee@example.com', 'Dee', 'designer', true, false, 0, {stamp})"
                )
            )  # noqa: E501,S608
            conn.execute(
                text(
                    "INSERT INTO notifications (user_id, kind, title, body, url, project_id, created_at) VALUES (3, 'project_assigned', 'Added', '', '/projects/7', 7, now()), (3, 'system', 'Hello', '', '', NULL, now())"
                )
            )  # noqa: E501
        upgrade(revision=ISSUE_5_HEAD)
        with db.engine.begin() as conn:
            assert conn.scalar(text("SELECT name FROM projects WHERE id = 7")) == "Deck stain"
            links = conn.execute(text("SELECT link_endpoint, link_args FROM notifications ORDER BY id")).all()
            assert [tuple(row) for row in links] == [("projects.detail", {"project_id": 7}), ("", {})]
            conn.execute(
                text(
                    f"INSERT INTO projects (name, description, client_id, status, address, city, state, zip, progress_percent, notes, internal_notes, created_at, updated_at) VALUES ('Deck stain', '', 2, 'created', '', '', '', '', 0, '', '', {stamp})"
                )
            )  # noqa: E501,S608
        try:
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        f"INSERT INTO projects (name, description, client_id, status, address, city, state, zip, progress_percent, notes, internal_notes, created_at, updated_at) VALUES ('DECK STAIN', '', 1, 'created', '', '', '', '', 0, '', '', {stamp})"
                    )
                )  # noqa: E501,S608
            raise AssertionError("the same client got a second 'Deck stain'")
        except IntegrityError:
            pass
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM projects WHERE client_id = 2"))
        downgrade(revision="0001_foundation")
        with db.engine.begin() as conn:
            urls = conn.scalars(text("SELECT url FROM notifications ORDER BY id")).all()
            assert urls == ["/projects/7", ""]
        db.engine.dispose()


def _index_names(conn) -> set[str]:
    from sqlalchemy import text

    if conn.dialect.name == "postgresql":
        return set(conn.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'projects'")))
    return set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'projects'")))


def _names_differing_by_case_or_spacing_are_renamed(database_url):
    """Before 0002 names were unique as typed (case-sensitive), so one client may hold
    "Deck stain" and "deck  STAIN"; 0002's index on (client_id, lower(name)) must not
    fail on them. The oldest keeps its name, the others get the first free " (n)"."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, env_name="test")
    init_migrate(app)  # flask_migrate.upgrade() below needs it (app/core/migrations.py)
    columns = "id, name, description, client_id, status, address, city, state, zip, progress_percent, notes, internal_notes, created_at, updated_at"  # noqa: E501
    stamp = "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"

    def project(project_id, name, client_id):
        return f"({project_id}, '{name}', '', {client_id}, 'created', '', '', '', '', 0, '', '', {stamp})"

    with app.app_context():
        upgrade(revision="0001_foundation")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO clients VALUES (1,'Hughes','','','','','','',NULL,'',{stamp}), (2,'Ruiz','','','','','','',NULL,'',{stamp}), (3,'Lee','','','','','','',NULL,'',{stamp})"  # noqa: E501
                )
            )
            rows = [
                project(21, "Deck stain", 1),
                project(22, "deck  STAIN", 1),
                # a taken " (2)" is skipped: PORCH becomes "PORCH (3)"
                project(31, "Porch", 2),
                project(32, "porch (2)", 2),
                project(33, "PORCH", 2),
                project(41, "porch", 3),  # another client's: untouched
            ]
            conn.execute(text(f"INSERT INTO projects ({columns}) VALUES {', '.join(rows)}"))  # noqa: S608
        upgrade(revision=ISSUE_5_HEAD)
        with db.engine.begin() as conn:
            names = dict(conn.execute(text("SELECT id, name FROM projects ORDER BY id")).all())
            assert names == {
                21: "Deck stain",
                22: "deck STAIN (2)",
                31: "Porch",
                32: "porch (2)",
                33: "PORCH (3)",
                41: "porch",
            }
            assert "uq_projects_client_id_lower_name" in _index_names(conn)
        try:
            with db.engine.begin() as conn:
                conn.execute(text(f"INSERT INTO projects ({columns}) VALUES {project(23, 'DECK STAIN', 1)}"))  # noqa: S608
            raise AssertionError("the index let the same client have a second 'Deck stain'")
        except IntegrityError:
            pass
        downgrade(revision="0001_foundation")
        with db.engine.begin() as conn:
            assert "uq_projects_client_id_lower_name" not in _index_names(conn)
            assert conn.scalar(text("SELECT name FROM projects WHERE id = 22")) == "deck STAIN (2)"
        upgrade(revision=ISSUE_5_HEAD)
        with db.engine.begin() as conn:
            assert "uq_projects_client_id_lower_name" in _index_names(conn)
        db.engine.dispose()


def test_0002_renames_names_that_differ_only_by_case_or_spacing_postgresql(scratch_database):
    _names_differing_by_case_or_spacing_are_renamed(scratch_database)


def test_0002_renames_names_that_differ_only_by_case_or_spacing_sqlite(tmp_path):
    """The embedded mode runs the same migrations on SQLite."""
    _names_differing_by_case_or_spacing_are_renamed(f"sqlite:///{tmp_path / 'embedded.db'}")


def _0005_normalises_names_and_keys_them(database_url):
    """0005 stores names normalised (NFKC, no zero-width characters, single spaces) with a
    case-folded key under a unique index; rows whose keys collide keep the oldest as it
    is and rename the others deterministically. Downgrade drops the keys."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, env_name="test")
    init_migrate(app)  # flask_migrate.upgrade() below needs it (app/core/migrations.py)
    stamp = "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
    columns = "id, name, description, client_id, status, address, city, state, zip, progress_percent, notes, internal_notes, created_at, updated_at"  # noqa: E501

    def client(client_id, name):
        return f"({client_id}, '{name}', '', '', '', '', '', '', NULL, '', {stamp})"

    def project(project_id, name, client_id):
        return f"({project_id}, '{name}', '', {client_id}, 'created', '', '', '', '', 0, '', '', {stamp})"

    def user(user_id, username, email):
        return f"({user_id}, '{username}', '{email}', '', 'employee', true, false, 0, {stamp})"

    with app.app_context():
        upgrade(revision="0003_notification_links")
        with db.engine.begin() as conn:
            clients = [
                client(1, "José Ltd"),
                client(2, "Jose\u0301 Ltd"),  # NFD of the same name
                client(3, "ΟΔΟΣ"),
                client(4, "οδος"),  # final sigma: the same name folded
                client(5, "Ann\u200b  Co "),
            ]
            conn.execute(text(f"INSERT INTO clients VALUES {', '.join(clients)}"))  # noqa: S608
            projects = [project(11, "Deck", 1), project(12, "De\u200dck", 1), project(13, "Deck", 3)]
            conn.execute(text(f"INSERT INTO projects ({columns}) VALUES {', '.join(projects)}"))  # noqa: S608
            users = [user(21, "dee", "Dee@example.com"), user(22, "Dee", "dee@example.com")]
            conn.execute(
                text(
                    "INSERT INTO users (id, username, email, full_name, role, is_active, must_change_password,"
                    f" session_epoch, created_at, updated_at) VALUES {', '.join(users)}"  # noqa: S608
                )
            )
        upgrade(revision="0005_name_keys")
        with db.engine.begin() as conn:
            assert dict(conn.execute(text("SELECT id, name FROM clients ORDER BY id")).all()) == {
                1: "José Ltd",
                2: "José Ltd (2)",
                3: "ΟΔΟΣ",
                4: "οδος (2)",
                5: "Ann Co",
            }
            assert conn.scalar(text("SELECT name_key FROM clients WHERE id = 3")) == "οδοσ"
            assert dict(conn.execute(text("SELECT id, name FROM projects ORDER BY id")).all()) == {
                11: "Deck",
                12: "Deck (2)",
                13: "Deck",  # another client's: untouched
            }
            accounts = conn.execute(text("SELECT id, username, email FROM users ORDER BY id")).all()
            assert [tuple(row) for row in accounts] == [
                (21, "dee", "Dee@example.com"),
                (22, "Dee-2", "dee+2@example.com"),
            ]
        try:
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        f"INSERT INTO clients (id, name, name_key, email, phone, billing_address, billing_city, billing_state, billing_zip, notes, created_at, updated_at) VALUES (6, 'ANN CO', 'ann co', '', '', '', '', '', '', '', {stamp})"  # noqa: E501
                    )
                )
            raise AssertionError("the key index let a second 'Ann Co' in")
        except IntegrityError:
            pass
        downgrade(revision="0003_notification_links")
        with db.engine.begin() as conn:
            assert "name_key" not in {c["name"] for c in inspect(conn).get_columns("clients")}
            assert "email_key" not in {c["name"] for c in inspect(conn).get_columns("users")}
            assert conn.scalar(text("SELECT name FROM clients WHERE id = 2")) == "José Ltd (2)"
        upgrade(revision="0005_name_keys")
        with db.engine.begin() as conn:
            assert conn.scalar(text("SELECT name_key FROM projects WHERE id = 12")) == "deck (2)"
        db.engine.dispose()


def test_0005_normalises_names_and_keys_them_postgresql(scratch_database):
    _0005_normalises_names_and_keys_them(scratch_database)


def test_0005_normalises_names_and_keys_them_sqlite(tmp_path):
    _0005_normalises_names_and_keys_them(f"sqlite:///{tmp_path / 'embedded.db'}")


def test_the_health_checks_idea_of_the_newest_revision_is_alembics():
    """core.migrations.heads() reads migrations/versions/ without Alembic (the web process
    never imports it); it must agree with Alembic itself."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.core.migrations import MIGRATIONS, heads

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    assert heads() == frozenset(ScriptDirectory.from_config(config).get_heads())


def test_the_web_app_does_not_import_alembic():
    """Cold start: `gunicorn wsgi:app` never pays for Alembic (only `flask db …` does)."""
    import subprocess
    import sys

    code = "import sys, wsgi; print('alembic' in sys.modules, 'flask_migrate' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    assert out.stdout.split() == ["False", "False"]


def test_a_test_database_left_at_another_branchs_revision_is_recreated(scratch_database):
    """A machine's test database may record a migration this checkout does not have (a
    run of another branch); the suite re-creates it instead of failing to upgrade it."""
    from scripts.pgtools import connect, ensure_scratch_database

    with connect(scratch_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(64) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999_from_another_branch')")
    assert ensure_scratch_database(scratch_database) is True
    with connect(scratch_database, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0] is None
    # a known revision (or none) is kept as it is
    assert ensure_scratch_database(scratch_database) is False
