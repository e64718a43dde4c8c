"""notifications link to an endpoint with arguments instead of a stored URL

Revision ID: 0003_notification_links
Revises: 0002_project_name_per_client
"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0003_notification_links"
down_revision = "0002_project_name_per_client"
branch_labels = None
depends_on = None


@contextmanager
def _quiet_reflection():
    """SQLite's batch mode reflects the referenced projects table, whose expression
    index (0002) SQLAlchemy cannot reflect; it is not part of what is rebuilt here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        yield


def upgrade():
    with _quiet_reflection():
        _upgrade()


def downgrade():
    with _quiet_reflection():
        _downgrade()


def _upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_endpoint", sa.String(length=80), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("link_args", sa.JSON(), nullable=False, server_default="{}"))
    # The only links stored so far point at a project's page.
    build = "json_build_object" if op.get_context().dialect.name == "postgresql" else "json_object"
    op.execute(
        f"UPDATE notifications SET link_endpoint = 'projects.detail', "  # noqa: S608 - no input
        f"link_args = {build}('project_id', project_id) "
        "WHERE project_id IS NOT NULL AND url LIKE '/projects/%'"
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("link_endpoint", server_default=None)
        batch_op.alter_column("link_args", server_default=None)
        batch_op.drop_column("url")


def _downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.String(length=500), nullable=False, server_default=""))
    op.execute(
        "UPDATE notifications SET url = '/projects/' || CAST(project_id AS VARCHAR) "
        "WHERE link_endpoint = 'projects.detail' AND project_id IS NOT NULL"
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("url", server_default=None)
        batch_op.drop_column("link_args")
        batch_op.drop_column("link_endpoint")
