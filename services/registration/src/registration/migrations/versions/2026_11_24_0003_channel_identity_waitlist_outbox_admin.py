"""channel identity, waitlist, transactional outbox, admin tokens and audit

- participants: the channel identity a registration came from (business number, reply address),
  the waitlist order and promotion time, the erasure time; an index for capacity counts.
- outbox: events written in the transaction of the change; the relay publishes and marks them.
- admin_tokens (hashed bearer tokens with scopes) and admin_audit (every admin API call).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("participants", sa.Column("business_id", sa.String(64), nullable=True))
    op.add_column("participants", sa.Column("reply_kind", sa.String(16), nullable=True))
    op.add_column("participants", sa.Column("reply_id", sa.String(256), nullable=True))
    op.add_column("participants", sa.Column("waitlist_position", sa.BigInteger(), nullable=True))
    op.add_column("participants", sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("participants", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.schema.CreateSequence(sa.Sequence("participants_waitlist_seq")))
    op.create_index("ix_participants_event_status_profile", "participants", ["event_id", "status", "profile"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("routing_key", sa.String(64), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_routing_key"), "outbox", ["routing_key"])
    op.create_index(
        "ix_outbox_unpublished", "outbox", ["created_at"], postgresql_where=sa.text("published_at IS NULL")
    )

    op.create_table(
        "admin_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_sha256", sa.LargeBinary(32), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(16)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_admin_tokens_name")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_admin_tokens_token_sha256")),
    )

    op.create_table(
        "admin_audit",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("query", sa.String(1000), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit")),
    )
    op.create_index(op.f("ix_admin_audit_at"), "admin_audit", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_audit_at"), table_name="admin_audit")
    op.drop_table("admin_audit")
    op.drop_table("admin_tokens")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_index(op.f("ix_outbox_routing_key"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_participants_event_status_profile", table_name="participants")
    op.execute(sa.schema.DropSequence(sa.Sequence("participants_waitlist_seq")))
    for column in ("erased_at", "promoted_at", "waitlist_position", "reply_id", "reply_kind", "business_id"):
        op.drop_column("participants", column)
