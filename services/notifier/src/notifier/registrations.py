"""Use case: tell a participant what happened to their registration (e-mail, and WhatsApp when
the chat has not told them already).

WhatsApp, decided: a registration made in the chat is confirmed *in the chat*, with the code, the
moment it happens; a second WhatsApp confirmation from here would be a double message. So only
what the person did not just see in their chat goes out on WhatsApp: a promotion from the
waiting list, and a cancellation made by an organiser. It goes out as an ordinary send command
(deterministic id from the event), so it is logged, ordered and retried like any reply.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from common.contracts import (
    RegistrationCancelled,
    RegistrationPromoted,
    SendWhatsAppMessage,
    TextContent,
)
from notifier.delivery_log import DeliveryLog, Outbound
from notifier.email.compose import RegistrationMail, compose, mail_kind
from notifier.email.event_facts import EventFacts
from notifier.email.mailer import Mailer
from notifier.outages import Patience
from notifier.retry_policy import RetryPolicy
from notifier.service import Outcome, attempt_once

_WHATSAPP_NAMESPACE = uuid.UUID("a4d7e6c2-1b3f-4c8e-9d2a-5f6b7c8d9e01")
Publish = Callable[[SendWhatsAppMessage], Awaitable[None]]


def email_outbound(event: RegistrationMail) -> Outbound:
    return Outbound(
        id=event.message_id,
        channel="email",
        provider="smtp",
        recipient=event.email,
        kind=f"email:{mail_kind(event).value}",
        business_id=event.business_id,
        conversation_key=event.conversation_key,
    )


async def send_email(
    event: RegistrationMail,
    *,
    facts: EventFacts,
    mailer: Mailer,
    sender: str,
    delivery_log: DeliveryLog,
    policy: RetryPolicy,
    patience: Patience,
) -> Outcome:
    outbound = email_outbound(event)
    # Composed and connected before the claim: a crash between the claim and recording the SMTP
    # answer leaves the e-mail 'unknown' (not resent: nothing can tell whether it went out), so
    # that window holds only the hand-over (MAIL, RCPT, DATA), not the QR code, MIME or TLS.
    message = compose(event, facts, sender=sender, now=datetime.now(UTC))
    async with mailer.session() as session:

        async def effect() -> tuple[str, str | None]:
            return await session.send(message), None

        return await attempt_once(outbound, effect, log_=delivery_log, policy=policy, patience=patience)


def whatsapp_notice(event: RegistrationMail, facts: EventFacts) -> SendWhatsAppMessage | None:
    """The WhatsApp message for this event, when one is due (see the module docstring)."""
    if event.provider is None or event.business_id is None or event.conversation_key is None:
        return None
    if event.reply_to is None:
        return None
    match event:
        case RegistrationPromoted():
            text = (
                f"Boa notícia! Abriu uma vaga e sua inscrição {event.code} no {facts.event.name} "
                "saiu da lista de espera: está confirmada. Enviamos os detalhes por e-mail. ✅"
            )
        case RegistrationCancelled() if event.cancelled_by != "participant":
            text = (
                f"Sua inscrição {event.code} no {facts.event.name} foi cancelada pela organização. "
                "Se tiver dúvidas, responda esta mensagem."
            )
        case _:
            return None
    return SendWhatsAppMessage(
        message_id=uuid.uuid5(_WHATSAPP_NAMESPACE, str(event.message_id)),
        provider=event.provider,
        business_id=event.business_id,
        conversation_key=event.conversation_key,
        to=event.reply_to,
        content=TextContent(body=text),
        causation_id=event.message_id,
    )
