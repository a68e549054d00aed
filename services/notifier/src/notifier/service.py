"""Use case: carry out one send exactly once, and say what to do when it fails.

The delivery log row is moved to ``sending`` before the provider is called and to ``sent`` (with
the provider's id) right after it answers. A redelivery, a duplicate or another replica that finds
the row past ``queued``/``failed_temporary`` does not call the provider. A row found ``sending``
means a send was interrupted between the call and recording its answer: it may have gone out, and
nothing can tell (Meta has no lookup by our id), so it is marked ``unknown`` and *not* resent — a
missing message is visible in the log and its receipt may still arrive; a double message is not
undoable. That window is one provider round trip plus one UPDATE (see the README).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from common.contracts import MessageStatusChanged, SendWhatsAppMessage
from common.logging import get_logger
from notifier.delivery_log import Begun, DeliveryLog, Outbound
from notifier.errors import SendFailed
from notifier.retry_policy import RetryPolicy
from notifier.statuses import DeliveryState

log = get_logger(__name__)


@dataclass(frozen=True)
class Delivered:
    provider_message_id: str


@dataclass(frozen=True)
class Skipped:
    state: DeliveryState  # what the log already says


@dataclass(frozen=True)
class RetryLater:
    delay_s: float
    attempt: int  # the attempt that failed
    reason: str


@dataclass(frozen=True)
class GaveUp:
    reason: str


Outcome = Delivered | Skipped | RetryLater | GaveUp
Effect = Callable[[], Awaitable[tuple[str, str | None]]]  # → (provider message id, kind sent)


async def attempt_once(
    outbound: Outbound, effect: Effect, *, log_: DeliveryLog, policy: RetryPolicy
) -> Outcome:
    """Record, do ``effect`` once, record its answer; decide what a failure leads to."""
    begun = await log_.begin(outbound)
    if not isinstance(begun, Begun):
        if begun.state is DeliveryState.SENDING and await log_.mark_unknown(outbound.id):
            log.warning("send.interrupted", id=str(outbound.id), state=DeliveryState.UNKNOWN.value)
            return Skipped(DeliveryState.UNKNOWN)
        log.info("send.skipped", id=str(outbound.id), state=begun.state.value)
        return Skipped(begun.state)
    try:
        provider_message_id, kind = await effect()
    except SendFailed as failure:
        return await _failed(outbound, begun.attempt, failure, log_=log_, policy=policy)
    except Exception as exc:  # a bug or an unexpected answer: retried, then dead-lettered
        unexpected = SendFailed(f"unexpected: {exc!r}", retryable=True)
        return await _failed(outbound, begun.attempt, unexpected, log_=log_, policy=policy)
    await log_.sent(outbound.id, provider_message_id, kind)
    log.info(
        "send.delivered", id=str(outbound.id), provider_message_id=provider_message_id, attempt=begun.attempt
    )
    return Delivered(provider_message_id)


async def _failed(
    outbound: Outbound, attempt: int, failure: SendFailed, *, log_: DeliveryLog, policy: RetryPolicy
) -> Outcome:
    reason = str(failure)
    delay = policy.next_delay(attempt, failure.retry_after_s) if failure.retryable else None
    if delay is not None:
        await log_.failed(outbound.id, DeliveryState.FAILED_TEMPORARY, reason)
        log.warning("send.retry_scheduled", id=str(outbound.id), attempt=attempt, delay_s=delay, error=reason)
        return RetryLater(delay, attempt, reason)
    if failure.retryable:
        reason = f"gave up after {attempt} attempts: {reason}"
    await log_.failed(outbound.id, DeliveryState.FAILED_PERMANENT, reason)
    log.error("send.failed_permanent", id=str(outbound.id), attempt=attempt, error=reason)
    return GaveUp(reason)


def whatsapp_outbound(command: SendWhatsAppMessage) -> Outbound:
    return Outbound(
        id=command.message_id,
        channel="whatsapp",
        provider=command.provider.value,
        recipient=command.to.id,
        kind=command.content.type,
        business_id=command.business_id,
        conversation_key=command.conversation_key,
    )


async def record_receipt(event: MessageStatusChanged, log_: DeliveryLog) -> DeliveryState | None:
    """Apply what the provider reports about a message we sent (found by our id, else theirs)."""
    tracker = _uuid(event.tracker)
    errors = "; ".join(f"{e.code}: {e.title or e.message}" for e in event.errors) or None
    state = await log_.apply_receipt(
        tracker=tracker,
        provider_message_id=event.provider_message_id,
        receipt=event.status,
        at=event.status_at,
        error=errors,
    )
    fields = {"provider_message_id": event.provider_message_id, "status": event.status.value}
    if state is DeliveryState.FAILED_PERMANENT:
        log.warning("delivery.failed", id=event.tracker, error=errors, **fields)
    else:  # unmatched: a message sent before the log existed, or by another system on the number
        log.info("delivery.status_changed", id=event.tracker, matched=state is not None, **fields)
    return state


def _uuid(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
