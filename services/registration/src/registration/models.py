"""The participant table (SQLAlchemy 2 typed mappings)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CHAR, DateTime, Index, LargeBinary, MetaData, String, func, text
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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Participant(Base):
    """One registration. CPF is never stored in clear: a keyed HMAC for uniqueness, ciphertext to show."""

    __tablename__ = "participants"
    # Unique among active registrations: a cancelled one frees its CPF and e-mail.
    __table_args__ = (
        Index("uq_participants_active_cpf", "event_id", "cpf_hmac", unique=True, postgresql_where=ACTIVE),
        Index("uq_participants_active_email", "event_id", "email", unique=True, postgresql_where=ACTIVE),
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
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    submission_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
