"""Meta webhook → normalised ``MessageReceived`` events (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from common.contracts import AddressKind, MessageKind, MessageReceived, Provider, ReplyAddress
from ingress.meta.payload import Contact, Message, Value, Webhook

WHATSAPP_OBJECT = "whatsapp_business_account"
_KINDS = {k.value: k for k in MessageKind}


@dataclass
class Normalised:
    messages: list[MessageReceived] = field(default_factory=list)
    statuses: int = 0  # delivery receipts: never user messages
    ignored: list[str] = field(default_factory=list)  # what we skipped, and why


def normalise(webhook: Webhook) -> Normalised:
    """Every entry and every change (Meta batches); statuses are counted, never turned into messages."""
    out = Normalised()
    if webhook.object != WHATSAPP_OBJECT:
        out.ignored.append(f"object={webhook.object}")
        return out
    for entry in webhook.entry:
        for change in entry.changes:
            if change.field != "messages":
                out.ignored.append(f"field={change.field}")
                continue
            out.statuses += len(change.value.statuses)
            for message in change.value.messages:
                event = _message(change.value, message)
                if event is None:
                    out.ignored.append(f"message {message.id}: no sender id")
                else:
                    out.messages.append(event)
    return out


def _message(value: Value, message: Message) -> MessageReceived | None:
    if value.metadata is None:
        return None
    if message.from_:
        address = ReplyAddress(kind=AddressKind.WA_ID, id=message.from_)
    elif message.from_user_id:
        address = ReplyAddress(kind=AddressKind.BSUID, id=message.from_user_id)
    else:
        return None
    contact = _contact_for(value.contacts, message)
    business_id = value.metadata.phone_number_id
    return MessageReceived(
        provider=Provider.META,
        provider_message_id=message.id,
        business_id=business_id,
        conversation_key=MessageReceived.make_conversation_key(Provider.META, business_id, address.id),
        reply_to=address,
        display_name=contact.profile.name if contact and contact.profile else None,
        phone=f"+{message.from_}" if message.from_ and message.from_.isdigit() else None,
        sent_at=datetime.fromtimestamp(message.timestamp, UTC),
        kind=_KINDS.get(message.type, MessageKind.UNSUPPORTED),
        text=message.text.body if message.text else None,
    )


def _contact_for(contacts: list[Contact], message: Message) -> Contact | None:
    for contact in contacts:
        if (message.from_ and contact.wa_id == message.from_) or (
            message.from_user_id and contact.user_id == message.from_user_id
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else None
