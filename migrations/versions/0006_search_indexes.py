"""search, home-page and list indexes: pg_trgm GIN indexes on every searched column,
projects.updated_at (the home page's latest changes) and projects (name, id) (the
project list's default order)

Every search is `lower(column) LIKE '%text%'` (app/core/search.py); a GIN index on
`lower(column) gin_trgm_ops` answers it without reading every row. PostgreSQL only:
SQLite (embedded mode) has no pg_trgm, so there the trigram indexes are skipped and
searches read the rows as before. The updated_at index lets "recently updated" read
five rows from the end of an index instead of sorting every project, and (name, id)
lets the list's first page (ordered by name, then id) stop after 25 rows; both are
created on SQLite too.
Downgrade drops the indexes; the pg_trgm extension stays (dropping an extension another
schema object may use is not this migration's call, and it costs nothing unused).

Revision ID: 0006_search_indexes
Revises: 0005_name_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_search_indexes"
down_revision = "0005_name_keys"
branch_labels = None
depends_on = None

# (index, table, column): the columns core.search.contains() searches.
TRIGRAM = (
    ("ix_projects_name_trgm", "projects", "name"),
    ("ix_projects_address_trgm", "projects", "address"),
    ("ix_projects_city_trgm", "projects", "city"),
    ("ix_clients_name_trgm", "clients", "name"),
    ("ix_clients_email_trgm", "clients", "email"),
    ("ix_users_username_trgm", "users", "username"),
    ("ix_users_email_trgm", "users", "email"),
    ("ix_users_full_name_trgm", "users", "full_name"),
    ("ix_audit_log_username_trgm", "audit_log", "username"),
)


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade():
    op.create_index("ix_projects_updated_at", "projects", ["updated_at"])
    op.create_index("ix_projects_name_id", "projects", ["name", "id"])
    if not _postgresql():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index, table, column in TRIGRAM:
        op.create_index(
            index,
            table,
            [sa.text(f"lower({column}) gin_trgm_ops")],
            postgresql_using="gin",
        )


def downgrade():
    if _postgresql():
        for index, table, _column in reversed(TRIGRAM):
            op.drop_index(index, table_name=table)
    op.drop_index("ix_projects_name_id", table_name="projects")
    op.drop_index("ix_projects_updated_at", table_name="projects")
