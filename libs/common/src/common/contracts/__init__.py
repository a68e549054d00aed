"""Versioned messages on the bus, one module per owning service.

This package imports pydantic and the standard library only, so any system can depend on it.
"""

from common.contracts.base import AddressKind, Contract, ReplyAddress
from common.contracts.ingress import (
    DeliveryStatus,
    HumanActivityDetected,
    InteractiveChoice,
    Location,
    MediaRef,
    MessageKind,
    MessageReceived,
    MessageStatusChanged,
    Provider,
    ProviderError,
    Reaction,
    ReplyContext,
    SharedContact,
    WebhookParked,
)
from common.contracts.notifier import SendWhatsAppMessage, TextContent

__all__ = [
    "AddressKind",
    "Contract",
    "DeliveryStatus",
    "HumanActivityDetected",
    "InteractiveChoice",
    "Location",
    "MediaRef",
    "MessageKind",
    "MessageReceived",
    "MessageStatusChanged",
    "Provider",
    "ProviderError",
    "Reaction",
    "ReplyAddress",
    "ReplyContext",
    "SendWhatsAppMessage",
    "SharedContact",
    "TextContent",
    "WebhookParked",
]
