"""Valid contract instances for tests, with overridable fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from common.contracts import (
    AddressKind,
    HumanActivityDetected,
    MessageKind,
    MessageReceived,
    Provider,
    ReplyAddress,
    SendWhatsAppMessage,
    TextContent,
)


def message_received(**overrides: Any) -> MessageReceived:
    fields: dict[str, Any] = {
        "provider": Provider.META,
        "provider_message_id": "wamid.factory",
        "business_id": "1122334455667",
        "conversation_key": "meta:1122334455667:5561999999999",
        "reply_to": ReplyAddress(kind=AddressKind.WA_ID, id="5561999999999"),
        "display_name": "Ana Souza",
        "phone": "+5561999999999",
        "sent_at": datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        "kind": MessageKind.TEXT,
        "text": "oi",
    }
    return MessageReceived(**(fields | overrides))


def send_whatsapp_message(**overrides: Any) -> SendWhatsAppMessage:
    fields: dict[str, Any] = {
        "message_id": uuid.uuid4(),
        "provider": Provider.META,
        "business_id": "1122334455667",
        "conversation_key": "meta:1122334455667:5561999999999",
        "to": ReplyAddress(kind=AddressKind.WA_ID, id="5561999999999"),
        "content": TextContent(body="Olá!"),
    }
    return SendWhatsAppMessage(**(fields | overrides))


def human_activity_detected(**overrides: Any) -> HumanActivityDetected:
    fields: dict[str, Any] = {
        "provider": Provider.META,
        "business_id": "1122334455667",
        "conversation_key": "meta:1122334455667:5561999999999",
        "provider_message_id": "wamid.echo",
        "sent_at": datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        "text": "Oi! Aqui é a Carla, da organização.",
    }
    return HumanActivityDetected(**(fields | overrides))
