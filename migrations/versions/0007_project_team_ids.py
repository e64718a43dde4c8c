"""projects.team_ids: the team's user ids on the project row, kept by triggers

A PM's list, search and PM filter asked "is this user on the project's team?" by
joining project_memberships: at 10,000 projects a PM's search for a common word
intersected ~1,900 trigram matches with ~1,000 memberships (7 ms), and the PM filter
read every project of a busy PM. With the team's ids on the row, a GIN index answers
"contains this user" as a bitmap that PostgreSQL ANDs with the trigram indexes' bitmaps.

PostgreSQL keeps the column: statement-level triggers on project_memberships (insert,
delete, update — cascades from a deleted user or project included) rewrite team_ids of
every project the statement touched, in the same transaction, so it never disagrees with
the memberships — also when two transactions change one team at once (each locks the
project first, then recomputes with a fresh snapshot). Existing rows are filled here,
while the memberships are locked against writes. TRUNCATE of project_memberships is not
covered (the app never truncates). SQLite (embedded mode) gets the column
(JSON, empty) but no triggers: the app reads the memberships there
(app/projects/models.py `has_member`). Downgrade drops the triggers, the function, the
index and the column.

Revision ID: 0007_project_team_ids
Revises: 0006_search_indexes
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_project_team_ids"
down_revision = "0006_search_indexes"
branch_labels = None
depends_on = None

# Each trigger locks the projects it touches (in id order: no deadlock between two team
# changes) and only then recomputes their teams, in a statement of its own: in READ
# COMMITTED that statement's snapshot includes every team change committed before the
# lock was granted, so two transactions changing one project's team at once cannot leave
# it stale (a single UPDATE … SET = (SELECT …) would recompute from the snapshot it took
# before waiting). FOR NO KEY UPDATE does not conflict with the KEY SHARE lock that a
# membership's foreign key takes on its project.
FUNCTION = """
CREATE FUNCTION projects_team_ids_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT project_id) INTO touched FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT project_id) INTO touched FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT project_id) INTO touched
        FROM (SELECT project_id FROM old_rows UNION SELECT project_id FROM new_rows) AS changed;
    END IF;
    IF touched IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM projects WHERE id = ANY (touched) ORDER BY id FOR NO KEY UPDATE;
    UPDATE projects p SET team_ids = coalesce(
        (SELECT array_agg(m.user_id ORDER BY m.user_id) FROM project_memberships m WHERE m.project_id = p.id), '{}')
    WHERE p.id = ANY (touched);
    RETURN NULL;
END
$$
"""

TRIGGERS = (
    ("projects_team_ids_insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    ("projects_team_ids_delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
    ("projects_team_ids_update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
)


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade():
    if not _postgresql():
        op.add_column("projects", sa.Column("team_ids", sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
        return
    # No team may change between the fill and the triggers: a running app's writes to the
    # memberships wait for this migration's commit (reads go on).
    op.execute("LOCK TABLE project_memberships IN SHARE MODE")
    op.add_column(
        "projects",
        sa.Column("team_ids", postgresql.ARRAY(sa.Integer()), server_default=sa.text("'{}'"), nullable=False),
    )
    op.execute(FUNCTION)
    for name, event, transition in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON project_memberships {transition} "
            "FOR EACH STATEMENT EXECUTE FUNCTION projects_team_ids_sync()"
        )
    op.execute(
        "UPDATE projects p SET team_ids = coalesce("
        "(SELECT array_agg(m.user_id ORDER BY m.user_id) FROM project_memberships m WHERE m.project_id = p.id), '{}')"
    )
    op.create_index("ix_projects_team_ids", "projects", ["team_ids"], postgresql_using="gin")


def downgrade():
    if _postgresql():
        for name, _event, _transition in reversed(TRIGGERS):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON project_memberships")
        op.execute("DROP FUNCTION IF EXISTS projects_team_ids_sync()")
        op.drop_index("ix_projects_team_ids", table_name="projects")
    op.drop_column("projects", "team_ids")
