"""create deliveries

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("business_id", sa.String(128), nullable=True),
        sa.Column("conversation_key", sa.String(300), nullable=True),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_message_id", sa.String(256), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index(op.f("ix_deliveries_provider_message_id"), "deliveries", ["provider_message_id"])
    op.create_index("ix_deliveries_conversation_created", "deliveries", ["conversation_key", "created_at"])
    op.create_index("ix_deliveries_status_created", "deliveries", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_status_created", table_name="deliveries")
    op.drop_index("ix_deliveries_conversation_created", table_name="deliveries")
    op.drop_index(op.f("ix_deliveries_provider_message_id"), table_name="deliveries")
    op.drop_table("deliveries")
