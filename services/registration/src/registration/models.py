"""Tables of the registration service (SQLAlchemy 2 typed mappings); Alembic migrations build them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CHAR,
    BigInteger,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    Sequence,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so migrations can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


ACTIVE = text("status IN ('confirmed', 'waitlisted')")
UNPUBLISHED = text("published_at IS NULL")
# Waitlist order: drawn while the event's capacity lock is held, so it is the order of arrival.
WAITLIST_SEQUENCE = Sequence("participants_waitlist_seq")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Participant(Base):
    """One registration. CPF is never stored in clear: a keyed HMAC for uniqueness, ciphertext to show."""

    __tablename__ = "participants"
    # Unique among active registrations: a cancelled one frees its CPF and e-mail.
    __table_args__ = (
        Index("uq_participants_active_cpf", "event_id", "cpf_hmac", unique=True, postgresql_where=ACTIVE),
        Index("uq_participants_active_email", "event_id", "email", unique=True, postgresql_where=ACTIVE),
        Index("ix_participants_event_status_profile", "event_id", "status", "profile"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))  # normalised: lower-case
    cpf_hmac: Mapped[bytes] = mapped_column(LargeBinary(32))
    cpf_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    cpf_key_id: Mapped[str] = mapped_column(String(16))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(120))
    city_ibge_code: Mapped[int | None]
    uf: Mapped[str] = mapped_column(CHAR(2))
    profile: Mapped[str] = mapped_column(String(64))
    consent_version: Mapped[str] = mapped_column(String(32))
    consented_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    provider: Mapped[str] = mapped_column(String(32))
    conversation_key: Mapped[str] = mapped_column(String(300), index=True)
    # The channel identity it came from: the business number written to and the reply address.
    business_id: Mapped[str | None] = mapped_column(String(64))
    reply_kind: Mapped[str | None] = mapped_column(String(16))
    reply_id: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    submission_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    waitlist_position: Mapped[int | None] = mapped_column(BigInteger)
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxMessage(Base):
    """An event written in the transaction of the change it reports; the relay publishes it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unpublished", "created_at", postgresql_where=UNPUBLISHED),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the event's message_id
    routing_key: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")


class AdminToken(Base):
    """A bearer token of the admin API: only its SHA-256 is stored (the token has 256 random bits)."""

    __tablename__ = "admin_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who called the admin API, what they asked, when, and what they were answered."""

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(String(64))  # the token's name, or "anonymous"
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    query: Mapped[str] = mapped_column(String(1000), default="")
    status_code: Mapped[int]
