"""Broker subscribers of the notifier (thin: decode, call the use case, settle the message)."""

from __future__ import annotations

from dataclasses import dataclass

from database.outages import patiently
from faststream.rabbit import RabbitBroker

from common.consumers import Handler, consume, incoming_message
from common.contracts import (
    Contract,
    MessageReceived,
    MessageStatusChanged,
    Provider,
    RegistrationCancelled,
    RegistrationCompleted,
    RegistrationPromoted,
    SendWhatsAppMessage,
)
from common.messaging import (
    NOTIFIER_DELIVERY_STATUSES,
    NOTIFIER_INBOX,
    NOTIFIER_MESSAGES_RECEIVED,
    NOTIFIER_REGISTRATIONS_CANCELLED,
    NOTIFIER_REGISTRATIONS_COMPLETED,
    NOTIFIER_REGISTRATIONS_PROMOTED,
    ConsumerQueue,
    publish_headers,
    publisher,
    retry_transient,
)
from common.outages import Unavailable
from common.service import ServiceRuntime
from common.sharding import ShardConsumers
from notifier.delivery_log import DeliveryLog
from notifier.email.compose import RegistrationMail
from notifier.email.event_facts import EventFacts
from notifier.email.mailer import Mailer
from notifier.errors import DeadLettered
from notifier.inbound import InboundMessages
from notifier.metrics import NotifierMetrics
from notifier.outages import Patience
from notifier.rate_limit import Limit, RateLimiter
from notifier.registrations import send_email, whatsapp_notice
from notifier.retry_policy import RetryPolicy
from notifier.retry_queues import RetryTiers
from notifier.senders.base import Senders
from notifier.service import (
    AwaitingReceipt,
    Deferred,
    GaveUp,
    Outcome,
    RetryLater,
    attempt_once,
    record_receipt,
    whatsapp_outbound,
)

EMAIL_QUEUES = (
    NOTIFIER_REGISTRATIONS_COMPLETED,
    NOTIFIER_REGISTRATIONS_CANCELLED,
    NOTIFIER_REGISTRATIONS_PROMOTED,
)


@dataclass(frozen=True)
class Limits:
    business: Limit
    recipient: Limit


@dataclass(frozen=True)
class Notifier:
    """What the handlers need (built once in ``app``)."""

    broker: RabbitBroker
    delivery_log: DeliveryLog
    senders: Senders
    policy: RetryPolicy  # e-mail (seed 004's tiers)
    whatsapp_policy: RetryPolicy  # shorter first tiers: someone is waiting in the chat
    tiers: RetryTiers
    limiter: RateLimiter
    limits: Limits
    metrics: NotifierMetrics
    facts: EventFacts
    mailer: Mailer
    mail_from: str
    publish_timeout_s: float
    inbound: InboundMessages
    patience: Patience
    resend_unknown_after_s: float | None = None  # Meta sends only (its receipts carry our id)


async def _settle(notifier: Notifier, outcome: Outcome, *, target: str) -> None:
    """Act on a failure: wait in a retry tier (and ack this copy), or dead-letter the message.

    The tier publish is retried through a broker reconnect; should the original's channel be gone
    by then, the original comes back too and the delivery log sends it once all the same.
    """
    if isinstance(outcome, RetryLater | Deferred | AwaitingReceipt):
        raw = incoming_message()
        assert raw is not None  # every notifier queue is consumed by a lean consumer
        match outcome:
            case RetryLater():
                delay_s, attempt = outcome.delay_s, outcome.attempt
            case Deferred():
                delay_s, attempt = notifier.tiers.shortest, 0
            case AwaitingReceipt():
                delay_s, attempt = notifier.tiers.at_least(outcome.delay_s), 0
        await retry_transient(notifier.tiers.schedule)(
            notifier.broker, raw, target=target, delay_s=delay_s, attempt=attempt
        )
    elif isinstance(outcome, GaveUp):
        raise DeadLettered(outcome.reason)


def inbox_consumers(notifier: Notifier) -> ShardConsumers:
    """The send commands, per conversation in order, one at a time per shard."""

    async def on_send_whatsapp_message(command: SendWhatsAppMessage) -> None:
        """Send a WhatsApp message through its conversation's gateway, once."""
        await notifier.limiter.acquire(
            f"business:{command.provider}:{command.business_id}", notifier.limits.business
        )
        await notifier.limiter.acquire(f"recipient:{command.conversation_key}", notifier.limits.recipient)

        async def effect() -> tuple[str, str | None]:
            sent = await notifier.senders.send(command)
            return sent.provider_message_id, sent.kind

        outcome = await attempt_once(
            whatsapp_outbound(command),
            effect,
            log_=notifier.delivery_log,
            policy=notifier.whatsapp_policy,
            patience=notifier.patience,
            resend_unknown_after_s=(
                notifier.resend_unknown_after_s if command.provider is Provider.META else None
            ),
        )
        notifier.metrics.count("whatsapp", command.provider.value, outcome)
        await _settle(notifier, outcome, target=NOTIFIER_INBOX.name)

    handlers: dict[type[Contract], Handler] = {SendWhatsAppMessage: on_send_whatsapp_message}
    return ShardConsumers(notifier.broker, NOTIFIER_INBOX, handlers)


def register_handlers(runtime: ServiceRuntime, notifier: Notifier, *, prefetch: int) -> None:
    """The notifier's other queues, each on a lean consumer (``common.consumers``)."""
    notices = publisher(
        notifier.broker,
        SendWhatsAppMessage,
        timeout=notifier.publish_timeout_s,
        title="whatsapp.send:publish:notifier",
    )

    async def on_message_status_changed(event: MessageStatusChanged) -> None:
        """What the provider reports about a message we sent: the delivery log follows it."""
        try:
            await patiently(
                lambda: record_receipt(event, notifier.delivery_log),
                what="delivery log: receipt",
                wait_s=notifier.patience.before_s,
            )
        except Unavailable as exc:
            await _settle(notifier, Deferred(str(exc)), target=NOTIFIER_DELIVERY_STATUSES.name)

    async def on_message_received(event: MessageReceived) -> None:
        """A user wrote: Meta's 24-hour window reopens; the message is marked read (best effort)."""
        await notifier.inbound.on_received(event)

    async def notify(event: RegistrationMail, queue: ConsumerQueue) -> None:
        notice = whatsapp_notice(event, notifier.facts)
        if notice is not None:  # deterministic id: a re-handled event yields one send
            await retry_transient(notices.publish)(
                notice, message_id=str(notice.message_id), headers=dict(publish_headers(notice))
            )
        outcome = await send_email(
            event,
            facts=notifier.facts,
            mailer=notifier.mailer,
            sender=notifier.mail_from,
            delivery_log=notifier.delivery_log,
            policy=notifier.policy,
            patience=notifier.patience,
        )
        notifier.metrics.count("email", "smtp", outcome)
        await _settle(notifier, outcome, target=queue.name)

    async def on_registration_completed(event: RegistrationCompleted) -> None:
        """Confirmation (or waiting-list) e-mail with the code, QR code and calendar invite."""
        await notify(event, NOTIFIER_REGISTRATIONS_COMPLETED)

    async def on_registration_promoted(event: RegistrationPromoted) -> None:
        """A place freed up: e-mail with the code, QR and invite; WhatsApp too."""
        await notify(event, NOTIFIER_REGISTRATIONS_PROMOTED)

    async def on_registration_cancelled(event: RegistrationCancelled) -> None:
        """Cancellation e-mail; WhatsApp too when an organiser cancelled."""
        await notify(event, NOTIFIER_REGISTRATIONS_CANCELLED)

    consume(runtime, NOTIFIER_MESSAGES_RECEIVED, on_message_received, prefetch=prefetch)
    consume(runtime, NOTIFIER_DELIVERY_STATUSES, on_message_status_changed, prefetch=prefetch)
    consume(runtime, NOTIFIER_REGISTRATIONS_COMPLETED, on_registration_completed, prefetch=prefetch)
    consume(runtime, NOTIFIER_REGISTRATIONS_PROMOTED, on_registration_promoted, prefetch=prefetch)
    consume(runtime, NOTIFIER_REGISTRATIONS_CANCELLED, on_registration_cancelled, prefetch=prefetch)
