"""The delivery log: one row per outbound message (SQLAlchemy 2 typed mappings)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, MetaData, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Delivery(Base):
    """One outbound message. Its id is the command's (or event's) message_id: the idempotency key."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_conversation_created", "conversation_key", "created_at"),
        Index("ix_deliveries_status_created", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # whatsapp | email
    provider: Mapped[str] = mapped_column(String(32))  # meta, evolution, zapi, whaticket, smtp
    business_id: Mapped[str | None] = mapped_column(String(128))
    conversation_key: Mapped[str | None] = mapped_column(String(300))
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(64))  # text, buttons, list, template, email:<event>
    status: Mapped[str] = mapped_column(String(24))  # see notifier.statuses.DeliveryState
    attempts: Mapped[int] = mapped_column(default=0)
    claim_id: Mapped[uuid.UUID | None]  # the claim that last moved it to 'sending' (delivery_log)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(256), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
