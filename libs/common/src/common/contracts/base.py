"""What every message on the bus has in common."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    """Base of every command and event: frozen, versioned, with an id and a time.

    ``ROUTING_KEY`` and ``VERSION`` identify the message on the bus; a breaking change is a new
    class with a new version published alongside the old one, never an edit of this one.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    ROUTING_KEY: ClassVar[str]
    VERSION: ClassVar[int] = 1

    message_id: uuid.UUID = Field(
        default_factory=uuid.uuid4, description="Unique id of this message; consumers dedupe on it."
    )
    occurred_at: datetime = Field(default_factory=utcnow, description="When the producer made it (UTC).")

    def partition_key(self) -> str | None:
        """Messages with the same key are handled in order, one at a time (see common.sharding)."""
        return None

    @classmethod
    def message_type(cls) -> str:
        """The AMQP ``type`` property: routing key plus version, e.g. ``message.received.v1``."""
        return f"{cls.ROUTING_KEY}.v{cls.VERSION}"


class AddressKind(StrEnum):
    """How the provider identifies the user we reply to."""

    WA_ID = "wa_id"  # Meta's phone-based WhatsApp id
    BSUID = "bsuid"  # Meta's business-scoped user id (username users, no phone)
    JID = "jid"  # Baileys-style gateways: ...@s.whatsapp.net / ...@lid


class ReplyAddress(BaseModel):
    """The id a reply must go to: always the one the message came from, never a typed phone."""

    model_config = ConfigDict(frozen=True)

    kind: AddressKind
    id: str = Field(min_length=1, max_length=256)
