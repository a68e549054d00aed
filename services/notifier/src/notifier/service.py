"""Use case: carry out one send command exactly once, retrying what is worth retrying."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from common.contracts import DeliveryStatus, MessageStatusChanged, SendWhatsAppMessage
from common.idempotency import Claim, Claims
from common.logging import get_logger
from notifier.errors import SendFailed

SendFn = Callable[[SendWhatsAppMessage], Awaitable[str]]

log = get_logger(__name__)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, SendFailed) and exc.retryable


def _wait(backoff_max_s: float) -> Callable[[RetryCallState], float]:
    jittered = wait_random_exponential(multiplier=0.5, max=backoff_max_s)  # capped, full jitter

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, SendFailed) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, backoff_max_s)  # the provider said when
        return jittered(state)

    return wait


async def deliver(
    command: SendWhatsAppMessage,
    *,
    ledger: Claims,
    send: SendFn,
    redelivered: bool,
    attempts: int,
    backoff_max_s: float,
) -> str | None:
    """Send unless already sent; return the provider message id (None when skipped).

    Raises ``SendFailed`` when the provider refuses for good or every attempt failed: the message
    then goes to the dead-letter queue, where nothing is lost.
    """
    command_id = str(command.message_id)
    claim = await ledger.claim(command_id, take_over=redelivered)
    if claim is not Claim.ACQUIRED:
        log.info("send.skipped", command_id=command_id, reason=claim.value)  # done, or in flight
        return None
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=_wait(backoff_max_s),
            retry=retry_if_exception(_retryable),
            reraise=True,
        ):
            with attempt:
                provider_message_id = await send(command)
    except BaseException:
        await ledger.release(command_id)
        raise
    await ledger.complete(command_id, provider_message_id)
    log.info("send.delivered", command_id=command_id, provider_message_id=provider_message_id)
    return provider_message_id


def record_status(event: MessageStatusChanged) -> None:
    """The delivery log, for now as structured log lines keyed by our command id (the tracker)."""
    fields = {
        "command_id": event.tracker,
        "provider_message_id": event.provider_message_id,
        "status": event.status.value,
        "status_at": event.status_at.isoformat(),
    }
    if event.status is DeliveryStatus.FAILED:
        log.warning(
            "delivery.failed", errors=[e.model_dump(exclude_none=True) for e in event.errors], **fields
        )
    else:
        log.info("delivery.status_changed", **fields)
