"""create participants

Revision ID: 0001
Revises:
Create Date: 2026-11-23
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
        "participants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("cpf_hmac", sa.LargeBinary(32), nullable=False),
        sa.Column("cpf_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("phone_e164", sa.String(20), nullable=True),
        sa.Column("city", sa.String(120), nullable=False),
        sa.Column("city_ibge_code", sa.Integer(), nullable=True),
        sa.Column("uf", sa.CHAR(2), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("consent_version", sa.String(32), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("conversation_key", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("code", name=op.f("uq_participants_code")),
        sa.UniqueConstraint("event_id", "cpf_hmac", name="uq_participants_event_cpf"),
        sa.UniqueConstraint("event_id", "email", name="uq_participants_event_email"),
    )
    op.create_index(op.f("ix_participants_event_id"), "participants", ["event_id"])
    op.create_index(op.f("ix_participants_conversation_key"), "participants", ["conversation_key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_participants_conversation_key"), table_name="participants")
    op.drop_index(op.f("ix_participants_event_id"), table_name="participants")
    op.drop_table("participants")
