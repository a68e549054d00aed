"""Valid contract instances for tests, with overridable fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from common.contracts import (
    AddressKind,
    DeliveryStatus,
    HumanActivityDetected,
    MessageKind,
    MessageReceived,
    MessageStatusChanged,
    Provider,
    RegistrationCancelled,
    RegistrationCompleted,
    RegistrationPromoted,
    RegistrationStatus,
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


def message_status_changed(**overrides: Any) -> MessageStatusChanged:
    fields: dict[str, Any] = {
        "provider": Provider.META,
        "business_id": "1122334455667",
        "provider_message_id": "wamid.standin.1",
        "status": DeliveryStatus.DELIVERED,
        "status_at": datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
    }
    return MessageStatusChanged(**(fields | overrides))


def _registration(**overrides: Any) -> dict[str, Any]:
    return {
        "event_id": "agrotech-cerrado-2027",
        "registration_id": uuid.uuid4(),
        "code": "AGR-7K3M9Q",
        "status": RegistrationStatus.CONFIRMED,
        "profile": "produtor",
        "uf": "GO",
        "provider": Provider.META,
        "business_id": "1122334455667",
        "conversation_key": "meta:1122334455667:5561999999999",
        "reply_to": ReplyAddress(kind=AddressKind.WA_ID, id="5561999999999"),
        "full_name": "Ana Souza",
        "email": "ana.souza@example.com",
    } | overrides


def registration_completed(**overrides: Any) -> RegistrationCompleted:
    fields = _registration(
        city="Rio Verde", cpf_masked="***.456.789-**", registered_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    )
    return RegistrationCompleted(**(fields | overrides))


def registration_promoted(**overrides: Any) -> RegistrationPromoted:
    return RegistrationPromoted(**(_registration() | overrides))


def registration_cancelled(**overrides: Any) -> RegistrationCancelled:
    fields = _registration(status=RegistrationStatus.CANCELLED, cancelled_by="participant")
    return RegistrationCancelled(**(fields | overrides))
