"""active-only uniqueness, submission idempotency, CPF key id

A cancelled registration frees its CPF and e-mail (the person may register again), so uniqueness
holds among active registrations only (partial unique indexes). ``submission_id`` makes a
redelivered submit idempotent; ``cpf_key_id`` names the key that encrypted the CPF (rotation).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status IN ('confirmed', 'waitlisted')")


def upgrade() -> None:
    op.drop_constraint("uq_participants_event_cpf", "participants", type_="unique")
    op.drop_constraint("uq_participants_event_email", "participants", type_="unique")
    op.add_column("participants", sa.Column("cpf_key_id", sa.String(16), nullable=False, server_default="k1"))
    op.alter_column("participants", "cpf_key_id", server_default=None)
    op.add_column("participants", sa.Column("submission_id", sa.Uuid(), nullable=True))
    op.create_unique_constraint(op.f("uq_participants_submission_id"), "participants", ["submission_id"])
    op.create_index(
        "uq_participants_active_cpf",
        "participants",
        ["event_id", "cpf_hmac"],
        unique=True,
        postgresql_where=ACTIVE,
    )
    op.create_index(
        "uq_participants_active_email",
        "participants",
        ["event_id", "email"],
        unique=True,
        postgresql_where=ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_participants_active_email", table_name="participants")
    op.drop_index("uq_participants_active_cpf", table_name="participants")
    op.drop_constraint(op.f("uq_participants_submission_id"), "participants", type_="unique")
    op.drop_column("participants", "submission_id")
    op.drop_column("participants", "cpf_key_id")
    op.create_unique_constraint("uq_participants_event_email", "participants", ["event_id", "email"])
    op.create_unique_constraint("uq_participants_event_cpf", "participants", ["event_id", "cpf_hmac"])
