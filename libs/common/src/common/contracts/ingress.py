"""Events published by ingress: what arrived from a WhatsApp gateway, normalised."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from common.contracts.base import Contract, ReplyAddress


class Provider(StrEnum):
    META = "meta"
    EVOLUTION = "evolution"
    ZAPI = "zapi"
    WHATICKET = "whaticket"


class MessageKind(StrEnum):
    TEXT = "text"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    AUDIO = "audio"
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    ORDER = "order"
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"


class MessageReceived(Contract):
    """A user wrote to the business on WhatsApp (one message, whatever the gateway)."""

    ROUTING_KEY: ClassVar[str] = "message.received"

    provider: Provider
    provider_message_id: str = Field(
        min_length=1, description="The gateway's id of the message (Meta: wamid); the dedupe key."
    )
    business_id: str = Field(
        min_length=1, description="The business number that received it (Meta: phone_number_id)."
    )
    conversation_key: str = Field(
        min_length=1,
        description="Stable per user per business number: '<provider>:<business_id>:<user id>'.",
    )
    reply_to: ReplyAddress
    display_name: str | None = Field(default=None, description="Profile name the user chose.")
    phone: str | None = Field(
        default=None, description="The user's phone in E.164 when the gateway declared it."
    )
    sent_at: datetime = Field(description="When the user sent it, per the gateway (UTC).")
    kind: MessageKind
    text: str | None = Field(default=None, description="The text the user typed, if any.")

    @staticmethod
    def make_conversation_key(provider: Provider, business_id: str, user_id: str) -> str:
        return f"{provider.value}:{business_id}:{user_id}"
