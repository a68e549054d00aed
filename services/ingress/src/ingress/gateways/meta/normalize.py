"""Meta webhook payload → normalised events (pure: no I/O, never raises on bad input).

- ``messages`` field: ``value.messages[]`` → ``MessageReceived``; ``value.statuses[]`` →
  ``MessageStatusChanged`` (receipts are never user messages).
- ``smb_message_echoes`` field: a person replying from the Business app → ``HumanActivityDetected``.
- Other fields (account updates, template status…) are ignored with a reason.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

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
    ProviderError,
    Reaction,
    ReplyAddress,
    ReplyContext,
    SharedContact,
)
from ingress.gateways import jids
from ingress.gateways.base import Normalised, first_error, parse_each
from ingress.gateways.meta.payload import Contact, Echo, Media, Message, Status, Value, Webhook

WHATSAPP_OBJECT = "whatsapp_business_account"
_KINDS = {k.value: k for k in MessageKind}
_STATUSES = {s.value: s for s in DeliveryStatus}
_MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")


def normalise(payload: Any) -> Normalised:
    """Every entry and every change (Meta batches them)."""
    out = Normalised()
    try:
        webhook = Webhook.model_validate(payload)
    except ValidationError as exc:
        out.unrecognised.append(f"not a Meta webhook envelope: {first_error(exc)}")
        return out
    if webhook.object != WHATSAPP_OBJECT:
        out.unrecognised.append(f"object={webhook.object!r} is not {WHATSAPP_OBJECT}")
        return out
    for entry in webhook.entry:
        for change in entry.changes:
            if change.field == "messages":
                _messages_change(change.value, out)
            elif change.field == "smb_message_echoes":
                _echoes_change(change.value, out)
            else:
                out.ignored.append(f"field={change.field}")
    return out


def _messages_change(raw_value: dict[str, Any], out: Normalised) -> None:
    value = _value(raw_value, out)
    if value is None:
        return
    parse_each(value.messages, Message, out, lambda m: out.events.append(_message(value, m)))
    parse_each(value.statuses, Status, out, lambda s: out.events.append(_status(value, s)))


def _echoes_change(raw_value: dict[str, Any], out: Normalised) -> None:
    value = _value(raw_value, out)
    if value is None:
        return
    parse_each(value.message_echoes, Echo, out, lambda e: _echo(value, e, out))


def _value(raw: dict[str, Any], out: Normalised) -> Value | None:
    try:
        value = Value.model_validate(raw)
    except ValidationError as exc:
        out.unrecognised.append(f"change value: {first_error(exc)}")
        return None
    if value.metadata is None and (value.messages or value.statuses or value.message_echoes):
        out.unrecognised.append("change value without metadata.phone_number_id")
        return None
    return value


def _business_id(value: Value) -> str:
    assert value.metadata is not None  # checked in _value
    return value.metadata.phone_number_id


def _address(phone_id: str | None, user_id: str | None) -> ReplyAddress:
    # Reply to the id the user wrote from: the wa_id when Meta gives one, else the BSUID.
    if phone_id:
        return ReplyAddress(kind=AddressKind.WA_ID, id=phone_id)
    if user_id:
        return ReplyAddress(kind=AddressKind.BSUID, id=user_id)
    raise ValueError("no sender id (from / from_user_id)")


def _message(value: Value, message: Message) -> MessageReceived:
    address = _address(message.from_, message.from_user_id)
    contact = _contact_for(value.contacts, message)
    business_id = _business_id(value)
    kind = _KINDS.get(message.type, MessageKind.UNSUPPORTED)
    media = _media(message)
    interactive = _interactive(message)
    return MessageReceived(
        provider=Provider.META,
        provider_message_id=message.id,
        business_id=business_id,
        conversation_key=MessageReceived.make_conversation_key(Provider.META, business_id, address.id),
        reply_to=address,
        display_name=contact.profile.name if contact and contact.profile else None,
        phone=jids.e164(message.from_),
        sent_at=datetime.fromtimestamp(message.timestamp, UTC),
        kind=kind,
        text=_text(message, interactive),
        interactive=interactive,
        media=media,
        context=_context(message),
        location=Location(**message.location.model_dump(include={"latitude", "longitude", "name", "address"}))
        if message.location
        else None,
        reaction=Reaction(message_id=message.reaction.message_id, emoji=message.reaction.emoji or None)
        if message.reaction
        else None,
        contacts=[
            SharedContact(
                name=c.name.formatted_name if c.name else None,
                phones=[p.phone or p.wa_id or "" for p in c.phones if p.phone or p.wa_id],
            )
            for c in message.contacts
        ],
    )


def _text(message: Message, interactive: InteractiveChoice | None) -> str | None:
    if message.text:
        return message.text.body
    media = _media_part(message)
    if media and media.caption:
        return media.caption
    if interactive and interactive.title:
        return interactive.title
    if message.system and message.system.body:
        return message.system.body
    if message.order and message.order.text:
        return message.order.text
    return None


def _media_part(message: Message) -> Media | None:
    parts: list[Media | None] = [getattr(message, kind) for kind in _MEDIA_KINDS]
    return next((part for part in parts if part is not None), None)


def _media(message: Message) -> MediaRef | None:
    part = _media_part(message)
    if part is None:
        return None
    return MediaRef(
        id=part.id,
        url=part.url or part.link,
        mime_type=part.mime_type,
        sha256=part.sha256,
        filename=part.filename,
        voice=part.voice,
    )


def _interactive(message: Message) -> InteractiveChoice | None:
    if message.button is not None:  # template quick reply
        return InteractiveChoice(kind="button", id=message.button.payload, title=message.button.text)
    inter = message.interactive
    if inter is None:
        return None
    reply = inter.button_reply or inter.list_reply
    if reply is not None:
        return InteractiveChoice(kind=inter.type, id=reply.id, title=reply.title)
    if inter.nfm_reply is not None:
        return InteractiveChoice(
            kind=inter.type,
            id=inter.nfm_reply.name,
            title=inter.nfm_reply.body,
            data=_json_object(inter.nfm_reply.response_json),
        )
    return InteractiveChoice(kind=inter.type)


def _json_object(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        return {"raw": raw}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def _context(message: Message) -> ReplyContext | None:
    ctx = message.context
    if ctx is None:
        return None
    return ReplyContext(
        message_id=ctx.id, forwarded=ctx.forwarded, frequently_forwarded=ctx.frequently_forwarded
    )


def _status(value: Value, status: Status) -> MessageStatusChanged:
    business_id = _business_id(value)
    recipient = (
        _address(status.recipient_id, status.recipient_user_id)
        if status.recipient_id or status.recipient_user_id
        else None
    )
    return MessageStatusChanged(
        provider=Provider.META,
        business_id=business_id,
        provider_message_id=status.id,
        status=_STATUSES.get(status.status, DeliveryStatus.UNKNOWN),
        recipient=recipient,
        conversation_key=MessageReceived.make_conversation_key(Provider.META, business_id, recipient.id)
        if recipient
        else None,
        status_at=datetime.fromtimestamp(status.timestamp, UTC),
        tracker=status.biz_opaque_callback_data,
        errors=[
            ProviderError(
                code=e.code,
                title=e.title,
                message=e.message,
                details=str(e.error_data.get("details")) if e.error_data else None,
            )
            for e in status.errors
        ],
    )


def _echo(value: Value, echo: Echo, out: Normalised) -> None:
    user = _address(echo.to, echo.to_user_id)
    business_id = _business_id(value)
    out.events.append(
        HumanActivityDetected(
            provider=Provider.META,
            business_id=business_id,
            conversation_key=MessageReceived.make_conversation_key(Provider.META, business_id, user.id),
            provider_message_id=echo.id,
            sent_at=datetime.fromtimestamp(echo.timestamp, UTC),
            text=echo.text.body if echo.text else None,
        )
    )


def _contact_for(contacts: list[Contact], message: Message) -> Contact | None:
    for contact in contacts:
        if (message.from_ and contact.wa_id == message.from_) or (
            message.from_user_id and contact.user_id == message.from_user_id
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else None
