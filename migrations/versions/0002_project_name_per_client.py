"""project names unique per client (case-insensitive), not across all clients

Revision ID: 0002_project_name_per_client
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_project_name_per_client"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Names are stored trimmed with single spaces from now on (projects.services).
        op.execute(r"UPDATE projects SET name = regexp_replace(btrim(name), '\s+', ' ', 'g')")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_constraint("uq_projects_name", type_="unique")
    op.create_index(
        "uq_projects_client_id_lower_name",
        "projects",
        ["client_id", sa.text("lower(name)")],
        unique=True,
    )


def downgrade():
    op.drop_index("uq_projects_client_id_lower_name", table_name="projects")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_projects_name", ["name"])
