"""Evolution API v2 webhook → normalised events (pure; never raises on bad input).

- ``messages.upsert``: a user's message → ``MessageReceived``; ``fromMe`` (sent from the business
  number: a person on the phone, or another tool) → ``HumanActivityDetected``, never a user message.
- ``messages.update``: an acknowledgement of something we sent → ``MessageStatusChanged``.
- Groups, broadcasts and every other event are ignored with a reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.contracts import (
    AddressKind,
    DeliveryStatus,
    HumanActivityDetected,
    MessageReceived,
    MessageStatusChanged,
    Provider,
    ReplyAddress,
    ReplyContext,
)
from ingress.gateways import baileys, jids
from ingress.gateways.base import Normalised, first_error, parse_each

_ACKS = {
    "SERVER_ACK": DeliveryStatus.SENT,
    "DELIVERY_ACK": DeliveryStatus.DELIVERED,
    "READ": DeliveryStatus.READ,
    "PLAYED": DeliveryStatus.PLAYED,
    "ERROR": DeliveryStatus.FAILED,
    "DELETED": DeliveryStatus.DELETED,
}


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Key(_Loose):
    remoteJid: str
    fromMe: bool = False
    id: str
    remoteJidAlt: str | None = None
    senderPn: str | None = None
    participant: str | None = None


class Upsert(_Loose):
    key: Key
    pushName: str | None = None
    message: dict[str, Any] = Field(default_factory=dict)
    contextInfo: dict[str, Any] | None = None
    messageType: str | None = None
    messageTimestamp: int | None = None


class Update(_Loose):
    keyId: str | None = None
    messageId: str | None = None
    remoteJid: str | None = None
    fromMe: bool = True
    status: str
    dateTime: str | None = None


class Envelope(_Loose):
    event: str
    instance: str
    data: Any = None


def normalise(payload: Any) -> Normalised:
    out = Normalised()
    try:
        envelope = Envelope.model_validate(payload)
    except ValidationError as exc:
        out.unrecognised.append(f"not an Evolution webhook envelope: {first_error(exc)}")
        return out
    event = envelope.event.lower().replace("_", ".")
    items = envelope.data if isinstance(envelope.data, list) else [envelope.data]
    if event == "messages.upsert":
        parse_each(items, Upsert, out, lambda u: _upsert(envelope.instance, u, out))
    elif event == "messages.update":
        parse_each(items, Update, out, lambda u: _update(envelope.instance, u, out))
    else:
        out.ignored.append(f"event={envelope.event}")
    return out


def _sent_at(timestamp: int | None) -> datetime:
    if timestamp is None:
        return datetime.now(UTC)
    # Some versions send milliseconds.
    return datetime.fromtimestamp(timestamp / 1000 if timestamp > 10**11 else timestamp, UTC)


def _upsert(instance: str, upsert: Upsert, out: Normalised) -> None:
    key = upsert.key
    if jids.is_group(key.remoteJid):
        out.ignored.append(f"group or broadcast chat {key.remoteJid}")
        return
    user = jids.stable_user_id(key.remoteJid, key.remoteJidAlt, key.senderPn) or key.remoteJid
    conversation_key = MessageReceived.make_conversation_key(Provider.EVOLUTION, instance, user)
    text, kind, extra = baileys.content(upsert.message)
    if key.fromMe:
        out.events.append(
            HumanActivityDetected(
                provider=Provider.EVOLUTION,
                business_id=instance,
                conversation_key=conversation_key,
                provider_message_id=key.id,
                sent_at=_sent_at(upsert.messageTimestamp),
                text=text,
            )
        )
        return
    context = upsert.contextInfo or _context_info(upsert.message)
    out.events.append(
        MessageReceived(
            provider=Provider.EVOLUTION,
            provider_message_id=key.id,
            business_id=instance,
            conversation_key=conversation_key,
            reply_to=ReplyAddress(kind=AddressKind.JID, id=key.remoteJid),
            display_name=upsert.pushName or None,
            phone=jids.phone_of(key.remoteJid, key.remoteJidAlt, key.senderPn),
            sent_at=_sent_at(upsert.messageTimestamp),
            kind=kind,
            text=text,
            context=ReplyContext(
                message_id=context.get("stanzaId"), forwarded=bool(context.get("isForwarded"))
            )
            if context
            else None,
            **extra,
        )
    )


def _context_info(message: dict[str, Any]) -> dict[str, Any] | None:
    for part in message.values():
        if isinstance(part, dict) and isinstance(part.get("contextInfo"), dict):
            info: dict[str, Any] = part["contextInfo"]
            return info
    return None


def _update(instance: str, update: Update, out: Normalised) -> None:
    message_id = update.keyId or update.messageId
    status = _ACKS.get(update.status.upper())
    if not update.fromMe:
        out.ignored.append("update of a message the user sent")
        return
    if message_id is None or status is None:
        out.ignored.append(f"update status={update.status}")
        return
    recipient = (
        ReplyAddress(kind=AddressKind.JID, id=update.remoteJid)
        if update.remoteJid and not jids.is_group(update.remoteJid)
        else None
    )
    out.events.append(
        MessageStatusChanged(
            provider=Provider.EVOLUTION,
            business_id=instance,
            provider_message_id=message_id,
            status=status,
            recipient=recipient,
            conversation_key=MessageReceived.make_conversation_key(Provider.EVOLUTION, instance, recipient.id)
            if recipient
            else None,
            status_at=_parse_time(update.dateTime),
        )
    )


def _parse_time(value: str | None) -> datetime:
    if value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return datetime.now(UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)
