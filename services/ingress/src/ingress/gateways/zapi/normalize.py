"""Z-API callbacks → normalised events (pure; never raises on bad input).

- ``ReceivedCallback`` from the user → ``MessageReceived``; ``fromMe`` typed on the phone (not
  ``fromApi``) → ``HumanActivityDetected``; ``fromMe`` + ``fromApi`` is our own send: ignored.
- ``MessageStatusCallback`` → ``MessageStatusChanged`` for each id.
- The user's stable id is ``chatLid`` when present ("the most stable unique identifier").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.contracts import (
    AddressKind,
    DeliveryStatus,
    HumanActivityDetected,
    InteractiveChoice,
    Location,
    MediaRef,
    MessageKind,
    MessageReceived,
    MessageStatusChanged,
    Provider,
    Reaction,
    ReplyAddress,
    ReplyContext,
    SharedContact,
)
from ingress.gateways import jids
from ingress.gateways.base import Normalised, first_error, parse_each

_STATUSES = {
    "SENT": DeliveryStatus.SENT,
    "RECEIVED": DeliveryStatus.DELIVERED,
    "READ": DeliveryStatus.READ,
    "READ_BY_ME": DeliveryStatus.READ,
    "PLAYED": DeliveryStatus.PLAYED,
}
_MEDIA = {  # part name → (kind, url field)
    "image": (MessageKind.IMAGE, "imageUrl"),
    "audio": (MessageKind.AUDIO, "audioUrl"),
    "video": (MessageKind.VIDEO, "videoUrl"),
    "document": (MessageKind.DOCUMENT, "documentUrl"),
    "sticker": (MessageKind.STICKER, "stickerUrl"),
}


class Callback(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    instanceId: str | None = None
    connectedPhone: str | None = None
    messageId: str | None = None
    ids: list[str] = Field(default_factory=list)
    phone: str | None = None
    chatLid: str | None = None
    fromMe: bool = False
    fromApi: bool = False
    isGroup: bool = False
    isNewsletter: bool = False
    broadcast: bool = False
    momment: int | None = None
    status: str | None = None
    senderName: str | None = None
    chatName: str | None = None
    referenceMessageId: str | None = None
    forwarded: bool = False


def normalise(payload: Any) -> Normalised:
    out = Normalised()
    try:
        callback = Callback.model_validate(payload)
    except ValidationError as exc:
        out.unrecognised.append(f"not a Z-API callback: {first_error(exc)}")
        return out
    if callback.type == "ReceivedCallback":
        parse_each([payload], Callback, out, lambda c: _received(c, payload, out))
    elif callback.type == "MessageStatusCallback":
        parse_each([payload], Callback, out, lambda c: _status(c, out))
    else:
        out.ignored.append(f"type={callback.type}")
    return out


def _business(callback: Callback) -> str:
    business = callback.instanceId or callback.connectedPhone
    if not business:
        raise ValueError("no instanceId / connectedPhone")
    return business


def _at(momment: int | None) -> datetime:
    return datetime.fromtimestamp(momment / 1000, UTC) if momment else datetime.now(UTC)


def _received(callback: Callback, raw: dict[str, Any], out: Normalised) -> None:
    if callback.isGroup or callback.isNewsletter or callback.broadcast:
        out.ignored.append("group, newsletter or broadcast message")
        return
    if not callback.messageId or not callback.phone:
        raise ValueError("ReceivedCallback without messageId or phone")
    business = _business(callback)
    user = jids.stable_user_id(callback.chatLid, callback.phone) or callback.phone
    key = MessageReceived.make_conversation_key(Provider.ZAPI, business, user)
    text, kind, extra = _content(raw)
    if callback.fromMe:
        if callback.fromApi:
            out.ignored.append("our own send (fromApi)")
            return
        out.events.append(
            HumanActivityDetected(
                provider=Provider.ZAPI,
                business_id=business,
                conversation_key=key,
                provider_message_id=callback.messageId,
                sent_at=_at(callback.momment),
                text=text,
            )
        )
        return
    # ``phone`` is the number, or the @lid itself when Z-API does not know the number.
    phone = jids.phone_of(callback.phone) if "@" in callback.phone else jids.e164(callback.phone)
    out.events.append(
        MessageReceived(
            provider=Provider.ZAPI,
            provider_message_id=callback.messageId,
            business_id=business,
            conversation_key=key,
            reply_to=ReplyAddress(kind=AddressKind.WA_ID, id=callback.phone),
            display_name=callback.senderName or callback.chatName,
            phone=phone,
            sent_at=_at(callback.momment),
            kind=kind,
            text=text,
            context=ReplyContext(message_id=callback.referenceMessageId, forwarded=callback.forwarded)
            if callback.referenceMessageId or callback.forwarded
            else None,
            **extra,
        )
    )


def _content(raw: dict[str, Any]) -> tuple[str | None, MessageKind, dict[str, Any]]:
    text = raw.get("text")
    if isinstance(text, dict) and isinstance(text.get("message"), str):
        return text["message"], MessageKind.TEXT, {}
    for name, (kind, url_field) in _MEDIA.items():
        part = raw.get(name)
        if isinstance(part, dict):
            media = MediaRef(
                url=part.get(url_field),
                mime_type=part.get("mimeType"),
                filename=part.get("fileName"),
                voice=bool(part.get("ptt")),
            )
            return part.get("caption"), kind, {"media": media}
    if isinstance(loc := raw.get("location"), dict):
        location = Location(
            latitude=loc["latitude"],
            longitude=loc["longitude"],
            name=loc.get("name"),
            address=loc.get("address"),
        )
        return None, MessageKind.LOCATION, {"location": location}
    if isinstance(contact := raw.get("contact"), dict):
        phones = [str(p) for p in contact.get("phones", []) if p]
        return (
            None,
            MessageKind.CONTACTS,
            {"contacts": [SharedContact(name=contact.get("displayName"), phones=phones)]},
        )
    if isinstance(reaction := raw.get("reaction"), dict):
        target = (reaction.get("referencedMessage") or {}).get("messageId") or ""
        emoji = reaction.get("value") or None
        return None, MessageKind.REACTION, {"reaction": Reaction(message_id=target, emoji=emoji)}
    if isinstance(buttons := raw.get("buttonsResponseMessage"), dict):
        choice = InteractiveChoice(
            kind="button_reply", id=buttons.get("buttonId"), title=buttons.get("message")
        )
        return choice.title, MessageKind.INTERACTIVE, {"interactive": choice}
    if isinstance(listed := raw.get("listResponseMessage"), dict):
        choice = InteractiveChoice(
            kind="list_reply",
            id=listed.get("selectedRowId"),
            title=listed.get("title") or listed.get("message"),
        )
        return choice.title, MessageKind.INTERACTIVE, {"interactive": choice}
    return None, MessageKind.UNSUPPORTED, {}


def _status(callback: Callback, out: Normalised) -> None:
    status = _STATUSES.get((callback.status or "").upper())
    if status is None:
        out.ignored.append(f"status={callback.status}")
        return
    business = _business(callback)
    recipient = ReplyAddress(kind=AddressKind.WA_ID, id=callback.phone) if callback.phone else None
    for message_id in callback.ids or ([callback.messageId] if callback.messageId else []):
        out.events.append(
            MessageStatusChanged(
                provider=Provider.ZAPI,
                business_id=business,
                provider_message_id=message_id,
                status=status,
                recipient=recipient,
                conversation_key=MessageReceived.make_conversation_key(Provider.ZAPI, business, recipient.id)
                if recipient
                else None,
                status_at=_at(callback.momment),
            )
        )
