"""project names unique per client (case-insensitive), not across all clients

Existing names are tidied (trimmed, single spaces) and one client's names that differed
only by case or spacing are renamed " (2)", " (3)" … before the index is created.

Revision ID: 0002_project_name_per_client
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0002_project_name_per_client"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


NAME_LENGTH = 200
_projects = sa.table(
    "projects",
    sa.column("id", sa.Integer),
    sa.column("client_id", sa.Integer),
    sa.column("name", sa.String(NAME_LENGTH)),
)


def upgrade():
    bind = op.get_bind()
    # Names are stored trimmed with single spaces from now on (projects.services).
    if bind.dialect.name == "postgresql":
        op.execute(r"UPDATE projects SET name = regexp_replace(btrim(name), '\s+', ' ', 'g')")
    elif not context.is_offline_mode():
        _tidy_names(bind)
    if not context.is_offline_mode():  # an offline SQL script cannot read the rows
        _rename_duplicates(bind)
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_constraint("uq_projects_name", type_="unique")
    op.create_index(
        "uq_projects_client_id_lower_name",
        "projects",
        ["client_id", sa.text("lower(name)")],
        unique=True,
    )


def _tidy_names(bind):
    """Trim and single-space names in Python (SQLite has no regexp_replace)."""
    for project_id, name in bind.execute(sa.select(_projects.c.id, _projects.c.name)).all():
        tidy = " ".join(name.split())
        if tidy != name:
            bind.execute(_projects.update().where(_projects.c.id == project_id).values(name=tidy))


def _rename_duplicates(bind):
    """The old constraint was case-sensitive, so one client may have projects whose names
    differ only by case or spacing ("Deck stain", "deck  STAIN"): the new index would
    refuse them. The oldest (lowest id) keeps its name; the others get " (2)", " (3)" …,
    the first number free for that client, so every name stays unique. Compared with the
    database's own lower(), as the index is."""
    rows = bind.execute(
        sa.select(_projects.c.id, _projects.c.client_id, _projects.c.name, sa.func.lower(_projects.c.name)).order_by(
            _projects.c.id
        )
    ).all()
    taken: dict[int, set[str]] = {}
    for _id, client_id, _name, lowered in rows:
        taken.setdefault(client_id, set()).add(lowered)
    kept: set[tuple[int, str]] = set()
    for project_id, client_id, name, lowered in rows:
        if client_id is None or (client_id, lowered) not in kept:
            kept.add((client_id, lowered))
            continue
        number = 2
        while True:
            suffix = f" ({number})"
            cut = NAME_LENGTH - len(suffix)
            if lowered[:cut] + suffix not in taken[client_id]:
                break
            number += 1
        taken[client_id].add(lowered[:cut] + suffix)
        bind.execute(_projects.update().where(_projects.c.id == project_id).values(name=name[:cut] + suffix))


def downgrade():
    op.drop_index("uq_projects_client_id_lower_name", table_name="projects")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_projects_name", ["name"])
