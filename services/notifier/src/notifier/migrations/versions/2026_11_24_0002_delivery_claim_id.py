"""deliveries.claim_id: the claim that moved a row to 'sending' (replaces reading xmin)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("claim_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "claim_id")
