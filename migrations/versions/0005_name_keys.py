"""unique names compared by a key Python computes (NFKC, invisible characters out,
spaces collapsed, case-folded): clients, projects per client, usernames, emails

Existing values are normalised the way the services now store them; rows whose keys
collide keep the oldest (lowest id) as it is and rename the others deterministically —
names get the first free " (2)", " (3)" …, usernames "-2", "-3" …, emails "+2", "+3" …
before the "@". Downgrade drops the keys and their indexes; the values stay normalised.

Revision ID: 0005_name_keys
Revises: 0004_versions
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import context, op

revision = "0005_name_keys"
down_revision = "0004_versions"
branch_labels = None
depends_on = None

# A frozen copy of app/core/text.py as of this revision (a migration must not change
# when the app's code does).
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
_SPACES = re.compile(r"\s+")


def _normalise(value) -> str:
    text = unicodedata.normalize("NFKC", str(value or ""))
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()


def _key(value) -> str:
    return unicodedata.normalize("NFKC", _normalise(value).casefold())


def _name_variant(value: str, number: int, limit: int) -> str:
    suffix = f" ({number})"
    return value[: limit - len(suffix)].rstrip() + suffix


def _username_variant(value: str, number: int, limit: int) -> str:
    suffix = f"-{number}"
    return value[: limit - len(suffix)] + suffix


def _email_variant(value: str, number: int, limit: int) -> str:
    local, at, domain = value.rpartition("@")
    if not at:
        local, domain = value, ""
    suffix = f"+{number}"
    return local[: limit - len(suffix) - len(at) - len(domain)] + suffix + at + domain


# (table, value column, key column, scope column or None, length, renamer, index name)
KEYS = (
    ("clients", "name", "name_key", None, 200, _name_variant, "uq_clients_name_key"),
    ("projects", "name", "name_key", "client_id", 200, _name_variant, "uq_projects_client_id_name_key"),
    ("users", "username", "username_key", None, 80, _username_variant, "uq_users_username_key"),
    ("users", "email", "email_key", None, 254, _email_variant, "uq_users_email_key"),
)


def upgrade():
    bind = op.get_bind()
    for table, _column, key, *_ in KEYS:
        # NOT NULL from the start (filled below); SQLite can add such a column only with a default.
        op.add_column(table, sa.Column(key, sa.Text(), nullable=False, server_default=""))
    if not context.is_offline_mode():  # an offline SQL script cannot read the rows
        for spec in KEYS:
            _fill(bind, *spec[:6])
    for table, _column, key, scope, *_, index in KEYS:
        if bind.dialect.name == "postgresql":
            op.alter_column(table, key, server_default=None)
        op.create_index(index, table, [scope, key] if scope else [key], unique=True)


def _fill(bind, table, column, key, scope, limit, variant):
    """Normalise every value and store its key; where keys collide within the scope, the
    oldest row keeps its value and the others get the first variant whose key is free
    (free of every existing key too, so a rename never takes a later row's name)."""
    t = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.String), sa.column(key, sa.Text))
    scope_col = sa.column(scope, sa.Integer) if scope else sa.literal(None)
    rows = bind.execute(
        sa.select(sa.column("id", sa.Integer), sa.column(column, sa.String), scope_col)
        .select_from(sa.table(table))
        .order_by(sa.column("id"))
    ).all()
    cleaned = [(row_id, _normalise(value)[:limit], group) for row_id, value, group in rows]
    taken: dict = {}
    for _id, value, group in cleaned:
        taken.setdefault(group, set()).add(_key(value))
    kept: set = set()
    for row_id, value, group in cleaned:
        k = _key(value)
        if (group, k) in kept:
            number = 2
            while _key(variant(value, number, limit)) in taken[group]:
                number += 1
            value = variant(value, number, limit)
            k = _key(value)
            taken[group].add(k)
        kept.add((group, k))
        bind.execute(t.update().where(t.c.id == row_id).values({column: value, key: k}))


def downgrade():
    for table, _column, key, *_, index in reversed(KEYS):
        op.drop_index(index, table_name=table)
    for table, _column, key, *_ in reversed(KEYS):
        # SQLite (3.35+) drops an unindexed column in place; a batch rebuild of `clients`
        # would trip the foreign keys pointing at it.
        op.execute(f"ALTER TABLE {table} DROP COLUMN {key}")
