"""client records: contacts' roles, billing terms, the communication log, invitations

Issue 9's client page: a contact gets roles (comma-separated codes) and a version (its
edits are checked like the client's), at most one primary contact per client (a partial
unique index); a client gets payment terms (a code, existing clients net 30); the
communication log with follow-up dates (reminded once by workers/clients.py); and the
invitations that make a person a client user (only the token's SHA-256 is stored).
Downgrade drops the two tables, the index and the columns.

Revision ID: 0018_client_records
Revises: 0017_timeclock
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_client_records"
down_revision = "0017_timeclock"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "clients", sa.Column("payment_terms", sa.String(length=20), server_default=sa.text("'net_30'"), nullable=False)
    )
    op.add_column(
        "client_contacts", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    op.add_column(
        "client_contacts", sa.Column("roles", sa.String(length=200), server_default=sa.text("''"), nullable=False)
    )
    # Clients with more than one primary contact (possible before) keep their first one.
    op.execute(
        "UPDATE client_contacts SET is_primary = false WHERE is_primary AND id <> "
        "(SELECT min(c.id) FROM client_contacts c WHERE c.client_id = client_contacts.client_id AND c.is_primary)"
    )
    op.create_index(
        "uq_client_contacts_primary",
        "client_contacts",
        ["client_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
        sqlite_where=sa.text("is_primary"),
    )
    op.create_table(
        "client_communications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("follow_up_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_client_communications_client",
        "client_communications",
        ["client_id", sa.text("occurred_at DESC")],
        unique=False,
    )
    op.create_index(
        "ix_client_communications_follow_up",
        "client_communications",
        ["follow_up_on"],
        unique=False,
        postgresql_where=sa.text("reminded_at IS NULL"),
        sqlite_where=sa.text("reminded_at IS NULL"),
    )
    op.create_table(
        "client_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["client_contacts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["invited_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_client_invitations_client_id", "client_invitations", ["client_id"], unique=False)


def downgrade():
    op.drop_index("ix_client_invitations_client_id", table_name="client_invitations")
    op.drop_table("client_invitations")
    op.drop_index("ix_client_communications_follow_up", table_name="client_communications")
    op.drop_index("ix_client_communications_client", table_name="client_communications")
    op.drop_table("client_communications")
    op.drop_index("uq_client_contacts_primary", table_name="client_contacts")
    op.drop_column("client_contacts", "roles")
    op.drop_column("client_contacts", "version")
    op.drop_column("clients", "payment_terms")
