"""Whaticket webhook → ``MessageReceived`` (pure; never raises on bad input).

Shapes from seed 004: ``{"message": {"conversation": "olá"}, "number": "5511..."}`` or the number
in ``ticket.contact.number``; ``message`` is Baileys content (see ``gateways.baileys``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from common.contracts import (
    AddressKind,
    MessageReceived,
    Provider,
    ReplyAddress,
)
from ingress.gateways import baileys, jids
from ingress.gateways.base import Normalised, first_error

BUSINESS_ID = "whaticket"  # one Whaticket connection per deployment


def normalise(payload: Any, delivery_id: str) -> Normalised:
    out = Normalised()
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), dict):
        out.unrecognised.append("expected an object with a 'message' object")
        return out
    number = _number(payload)
    if number is None:
        out.unrecognised.append("no sender number (number / ticket.contact.number)")
        return out
    message: dict[str, Any] = payload["message"]
    ticket = payload.get("ticket")
    contact = ticket.get("contact") if isinstance(ticket, dict) else None
    try:
        text, kind, extra = baileys.content(message)
        event = MessageReceived(
            provider=Provider.WHATICKET,
            provider_message_id=str(payload.get("id") or payload.get("messageId") or delivery_id),
            business_id=BUSINESS_ID,
            conversation_key=MessageReceived.make_conversation_key(Provider.WHATICKET, BUSINESS_ID, number),
            reply_to=ReplyAddress(kind=AddressKind.WA_ID, id=number),
            display_name=contact.get("name") if isinstance(contact, dict) else None,
            phone=jids.e164(number),
            sent_at=datetime.now(UTC),  # the payload carries no time; X-Timestamp is within ±300 s
            kind=kind,
            text=text,
            **extra,
        )
    except ValidationError as exc:
        out.unrecognised.append(f"message: {first_error(exc)}")
        return out
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        out.unrecognised.append(f"message: {exc!r}"[:500])
        return out
    out.events.append(event)
    return out


def _number(payload: dict[str, Any]) -> str | None:
    ticket = payload.get("ticket")
    contact = ticket.get("contact") if isinstance(ticket, dict) else None
    raw = payload.get("number") or (contact.get("number") if isinstance(contact, dict) else None)
    if raw is None:
        return None
    digits = "".join(ch for ch in str(raw) if ch.isdigit())
    return digits or None
