"""Use case: carry out one send exactly once, and say what to do when it fails.

The delivery log row is moved to ``sending`` before the provider is called and to ``sent`` (with
the provider's id) right after it answers. A redelivery, a duplicate or another replica that finds
the row past ``queued``/``failed_temporary`` does not call the provider. A row found ``sending``
means a send was interrupted between the call and recording its answer: it may have gone out. It
is marked ``unknown``, and then:

- where the provider echoes our id on its receipts (Meta: ``biz_opaque_callback_data``) the
  message waits in a retry tier (``AwaitingReceipt``): a receipt that arrives meanwhile moves the
  row to ``sent``/``delivered`` and the copy back from the tier is skipped; a row still ``unknown``
  after ``resend_unknown_after_s`` was never accepted (Meta sends its ``sent`` receipt within
  seconds), so it is sent again, as the next attempt;
- elsewhere (other gateways, e-mail) nothing can tell, so it is *not* resent: a missing message
  is visible in the log, a double message is not undoable.

See the notifier README ("The crash window").

Every delivery-log write is waited for through a database outage (``notifier.outages``): a send
that cannot begin goes to a retry tier (``Unavailable``), and an answer the provider gave is
recorded as soon as the database is back (for up to ``Patience.after_s``), never left ``sending``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from database.outages import patiently

from common.contracts import MessageStatusChanged, SendWhatsAppMessage
from common.logging import get_logger
from common.outages import Unavailable
from notifier.delivery_log import Begun, Claim, DeliveryLog, Outbound, Taken
from notifier.errors import SendFailed
from notifier.outages import Patience
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


@dataclass(frozen=True)
class Deferred:
    """The delivery log stayed unreachable: not given up on, the message waits in a retry tier."""

    reason: str


@dataclass(frozen=True)
class AwaitingReceipt:
    """Interrupted mid-call, maybe sent: back in ``delay_s`` to see whether a receipt came."""

    delay_s: float


Outcome = Delivered | Skipped | RetryLater | GaveUp | Deferred | AwaitingReceipt
Effect = Callable[[], Awaitable[tuple[str, str | None]]]  # → (provider message id, kind sent)


async def attempt_once(
    outbound: Outbound,
    effect: Effect,
    *,
    log_: DeliveryLog,
    policy: RetryPolicy,
    patience: Patience,
    resend_unknown_after_s: float | None = None,
) -> Outcome:
    """Record, do ``effect`` once, record its answer; decide what a failure leads to.

    ``resend_unknown_after_s``: only for a provider whose receipts carry our id (see above).
    """
    claim = Claim(outbound, resend_unknown_after_s=resend_unknown_after_s)
    try:
        return await _attempt(claim, effect, log_=log_, policy=policy, patience=patience)
    except Unavailable as exc:
        # Before the call nothing was sent; after it (past the long wait) the row says 'sending'
        # and the message, back from the tier, finds it so: 'unknown' (see the module docstring).
        log.warning("send.deferred", id=str(outbound.id), error=str(exc))
        return Deferred(str(exc))


async def _attempt(
    claim: Claim, effect: Effect, *, log_: DeliveryLog, policy: RetryPolicy, patience: Patience
) -> Outcome:
    outbound = claim.outbound
    try:
        begun = await patiently(
            lambda: log_.begin(claim), what="delivery log: begin", wait_s=patience.before_s
        )
    except Unavailable:
        if not claim.tried:
            raise  # no statement went out, nothing was claimed: the copy from the tier begins afresh
        # A try may have committed with its answer lost: the row may be 'sending' by this claim,
        # which only this process can recognise (a copy from a tier would call it 'unknown').
        begun = await patiently(
            lambda: log_.begin(claim), what="delivery log: begin", wait_s=patience.after_s
        )
    if not isinstance(begun, Begun):
        return await _taken(claim, begun, log_=log_, patience=patience)
    try:
        provider_message_id, kind = await effect()
    except SendFailed as failure:
        return await _failed(outbound, begun.attempt, failure, log_=log_, policy=policy, patience=patience)
    except Exception as exc:  # a bug or an unexpected answer: retried, then dead-lettered
        unexpected = SendFailed(f"unexpected: {exc!r}", retryable=True)
        return await _failed(outbound, begun.attempt, unexpected, log_=log_, policy=policy, patience=patience)
    # The provider has it: the row must not stay 'sending' (a redelivery would call it unknown).
    await patiently(
        lambda: log_.sent(outbound.id, provider_message_id, kind),
        what="delivery log: sent",
        wait_s=patience.after_s,
    )
    log.info(
        "send.delivered", id=str(outbound.id), provider_message_id=provider_message_id, attempt=begun.attempt
    )
    return Delivered(provider_message_id)


async def _taken(claim: Claim, taken: Taken, *, log_: DeliveryLog, patience: Patience) -> Outcome:
    """Someone else's send, or one a crash interrupted (``sending``, then ``unknown``)."""
    id_, wait_s = claim.outbound.id, claim.resend_unknown_after_s
    if taken.state is DeliveryState.SENDING and await patiently(
        lambda: log_.mark_unknown(id_), what="delivery log: unknown", wait_s=patience.before_s
    ):
        log.warning("send.interrupted", id=str(id_), state=DeliveryState.UNKNOWN.value, resend_after_s=wait_s)
        return Skipped(DeliveryState.UNKNOWN) if wait_s is None else AwaitingReceipt(wait_s)
    if taken.state is DeliveryState.UNKNOWN and wait_s is not None:
        # Not old enough for ``begin`` to claim it again: a receipt may still come.
        return AwaitingReceipt(max(wait_s - taken.for_s, 0.0))
    log.info("send.skipped", id=str(id_), state=taken.state.value)
    return Skipped(taken.state)


async def _failed(
    outbound: Outbound,
    attempt: int,
    failure: SendFailed,
    *,
    log_: DeliveryLog,
    policy: RetryPolicy,
    patience: Patience,
) -> Outcome:
    reason = str(failure)
    delay = policy.next_delay(attempt, failure.retry_after_s) if failure.retryable else None

    async def record(state: DeliveryState, error: str) -> None:
        # Not sent, and the row says 'sending' until this is written: a retry would find it
        # taken. So it waits for the database like a 'sent' does.
        await patiently(lambda: log_.failed(outbound.id, state, error), what="delivery log: failed",
                        wait_s=patience.after_s)  # fmt: skip

    if delay is not None:
        await record(DeliveryState.FAILED_TEMPORARY, reason)
        log.warning("send.retry_scheduled", id=str(outbound.id), attempt=attempt, delay_s=delay, error=reason)
        return RetryLater(delay, attempt, reason)
    if failure.retryable:
        reason = f"gave up after {attempt} attempts: {reason}"
    await record(DeliveryState.FAILED_PERMANENT, reason)
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
