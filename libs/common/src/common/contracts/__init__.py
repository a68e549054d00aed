"""Versioned messages on the bus, one module per owning service.

This package imports pydantic and the standard library only, so any system can depend on it.
"""

from common.contracts.base import AddressKind, Contract, ReplyAddress
from common.contracts.conversation import HandoffRequested
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
from common.contracts.notifier import (
    ButtonsContent,
    ListContent,
    ListRow,
    ReplyButton,
    SendWhatsAppMessage,
    TextContent,
)
from common.contracts.registration import (
    CancelOutcome,
    CancelRegistration,
    CancelReply,
    CheckIdentity,
    FindRegistration,
    IdentityCheckReply,
    RegistrationStatus,
    RegistrationView,
    SubmitOutcome,
    SubmitRegistration,
    SubmitReply,
)

__all__ = [
    "AddressKind",
    "ButtonsContent",
    "CancelOutcome",
    "CancelRegistration",
    "CancelReply",
    "CheckIdentity",
    "Contract",
    "DeliveryStatus",
    "FindRegistration",
    "HandoffRequested",
    "HumanActivityDetected",
    "IdentityCheckReply",
    "InteractiveChoice",
    "ListContent",
    "ListRow",
    "Location",
    "MediaRef",
    "MessageKind",
    "MessageReceived",
    "MessageStatusChanged",
    "Provider",
    "ProviderError",
    "Reaction",
    "RegistrationStatus",
    "RegistrationView",
    "ReplyAddress",
    "ReplyButton",
    "ReplyContext",
    "SendWhatsAppMessage",
    "SharedContact",
    "SubmitOutcome",
    "SubmitRegistration",
    "SubmitReply",
    "TextContent",
    "WebhookParked",
]
