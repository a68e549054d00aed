"""Versioned messages on the bus, one module per owning service.

This package imports pydantic and the standard library only, so any system can depend on it.
"""

from common.contracts.base import AddressKind, Contract, ReplyAddress
from common.contracts.ingress import MessageKind, MessageReceived, Provider
from common.contracts.notifier import SendWhatsAppMessage, TextContent

__all__ = [
    "AddressKind",
    "Contract",
    "MessageKind",
    "MessageReceived",
    "Provider",
    "ReplyAddress",
    "SendWhatsAppMessage",
    "TextContent",
]
