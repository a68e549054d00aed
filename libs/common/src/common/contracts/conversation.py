"""Events published by the conversation service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from common.contracts.base import Contract
from common.contracts.ingress import Provider


class HandoffRequested(Contract):
    """A user asked for a person; the bot stays silent in this conversation until released."""

    ROUTING_KEY: ClassVar[str] = "conversation.handoff_requested"

    provider: Provider
    business_id: str = Field(min_length=1)
    conversation_key: str = Field(min_length=1)
    display_name: str | None = None
    requested_at: datetime
    silent_until: datetime = Field(description="When the bot speaks again unless released earlier.")
