"""Schema only through migrations: a fresh database upgrades to head, every migration
downgrades, and the models have no change that lacks a migration."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from app import create_app
from scripts.pgtools import drop_database, recreate_database


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
