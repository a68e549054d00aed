"""Events published by ingress: what arrived from a WhatsApp gateway, normalised."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

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


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True)


class InteractiveChoice(_Part):
    """What the user picked: a reply button, a list row, a template quick reply or a Flow."""

    kind: str = Field(description="button_reply | list_reply | button | nfm_reply")
    id: str | None = Field(default=None, description="The id we gave the option (payload).")
    title: str | None = None
    data: dict[str, Any] | None = Field(default=None, description="A Flow's response, parsed.")


class MediaRef(_Part):
    """Where the media can be fetched from the provider; never the bytes themselves."""

    id: str | None = Field(default=None, description="Provider media id (Meta: fetch via Graph).")
    url: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    filename: str | None = None
    voice: bool = Field(default=False, description="A voice note (push-to-talk audio).")


class ReplyContext(_Part):
    message_id: str | None = Field(default=None, description="The message this one replies to.")
    forwarded: bool = False
    frequently_forwarded: bool = False


class Location(_Part):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class Reaction(_Part):
    message_id: str
    emoji: str | None = Field(default=None, description="None when the reaction was removed.")


class SharedContact(_Part):
    name: str | None = None
    phones: list[str] = Field(default_factory=list)


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
    text: str | None = Field(
        default=None, description="What the user typed: the text, a caption, a button's title."
    )
    interactive: InteractiveChoice | None = None
    media: MediaRef | None = None
    context: ReplyContext | None = None
    location: Location | None = None
    reaction: Reaction | None = None
    contacts: list[SharedContact] = Field(default_factory=list)

    @staticmethod
    def make_conversation_key(provider: Provider, business_id: str, user_id: str) -> str:
        return f"{provider.value}:{business_id}:{user_id}"

    def partition_key(self) -> str:
        return self.conversation_key


class DeliveryStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    DELETED = "deleted"
    UNKNOWN = "unknown"


class ProviderError(_Part):
    code: int | None = None
    title: str | None = None
    message: str | None = None
    details: str | None = None


class MessageStatusChanged(Contract):
    """The provider reports what happened to a message we sent (a receipt, never a user message)."""

    ROUTING_KEY: ClassVar[str] = "message.status_changed"

    provider: Provider
    business_id: str = Field(min_length=1)
    provider_message_id: str = Field(min_length=1, description="Our sent message's id (Meta: wamid).")
    status: DeliveryStatus
    recipient: ReplyAddress | None = None
    conversation_key: str | None = None
    status_at: datetime
    tracker: str | None = Field(
        default=None, description="What we attached when sending (Meta: biz_opaque_callback_data)."
    )
    errors: list[ProviderError] = Field(default_factory=list)


class HumanActivityDetected(Contract):
    """A person at the business answered the user from the provider's own app (handoff signal)."""

    ROUTING_KEY: ClassVar[str] = "human.activity_detected"

    provider: Provider
    business_id: str = Field(min_length=1)
    conversation_key: str = Field(min_length=1)
    provider_message_id: str = Field(min_length=1)
    sent_at: datetime
    text: str | None = None

    def partition_key(self) -> str:
        return self.conversation_key


class WebhookParked(Contract):
    """A correctly authenticated webhook we could not understand, kept for a person to look at."""

    ROUTING_KEY: ClassVar[str] = "webhook.parked"

    provider: Provider
    reason: str
    content_type: str | None = None
    body: str = Field(description="The raw body as received (UTF-8, undecodable bytes replaced).")
