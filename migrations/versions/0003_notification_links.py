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

notifications = sa.table(
    "notifications",
    sa.column("id", sa.Integer),
    sa.column("url", sa.String),
    sa.column("project_id", sa.Integer),
    sa.column("link_endpoint", sa.String),
    sa.column("link_args", sa.JSON),
)


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
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(notifications.c.id, notifications.c.project_id).where(
            notifications.c.project_id.is_not(None), notifications.c.url.like("/projects/%")
        )
    ).all()
    for note_id, project_id in rows:
        bind.execute(
            notifications.update()
            .where(notifications.c.id == note_id)
            .values(link_endpoint="projects.detail", link_args={"project_id": project_id})
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
