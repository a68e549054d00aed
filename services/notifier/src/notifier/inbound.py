"""Use case: what the notifier does when a user writes (``message.received``).

1. Meta's 24-hour window reopens: its time is recorded (``notifier.window``).
2. The message is marked read through its gateway (Meta: blue ticks, and "typing…" when
   ``META_TYPING_INDICATOR`` is set; Evolution and Z-API: read; Whaticket: nothing to call).

Both are best effort and neither may hold up the reply: this runs on the notifier's own queue
beside the send inbox, takes nothing from the send rate limits, and a failure is logged and
counted, never retried and never dead-letters the event (on Meta, marking a later message read
marks the earlier ones too). Once per message: the first handler to claim the message's id in
Redis calls the gateway; a redelivered event finds the claim and does nothing. A crash between
the claim and the call leaves that message unmarked, the cheap side of "never twice". The window's
record and the claim travel to Redis in one pipeline (one round trip per message).
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from common.contracts import MessageReceived, Provider
from common.logging import get_logger
from common.outages import is_transient
from notifier.errors import SendFailed
from notifier.metrics import NotifierMetrics
from notifier.senders.base import Senders
from notifier.window import CustomerWindows

log = get_logger(__name__)

# Longer than ingress remembers provider ids (8 days): a re-published event is still recognised.
CLAIM_TTL_S = 9 * 24 * 3600


class InboundMessages:
    def __init__(
        self,
        *,
        redis: Redis,
        windows: CustomerWindows,
        senders: Senders,
        metrics: NotifierMetrics,
        mark_read: bool = True,
        prefix: str = "notifier:read",
    ) -> None:
        self._redis = redis
        self._windows = windows
        self._senders = senders
        self._metrics = metrics
        self._mark_read = mark_read
        self._prefix = prefix

    async def on_received(self, event: MessageReceived) -> None:
        reader = self._senders.reader(event.provider) if self._mark_read else None
        if self._mark_read and reader is None:
            self._metrics.count_read(event.provider.value, "unsupported")
        fields = {"provider": event.provider.value, "provider_message_id": event.provider_message_id}
        # The window's record and the read claim go to Redis together: one round trip.
        pipe = self._redis.pipeline(transaction=False)
        window = event.provider is Provider.META and self._windows.record(  # the only gateway with one
            pipe, event.conversation_key, event.sent_at
        )
        if reader is not None:
            key = f"{self._prefix}:{event.provider.value}:{event.business_id}:{event.provider_message_id}"
            pipe.set(key, "1", nx=True, ex=CLAIM_TTL_S)
        if not (window or reader):
            return
        try:
            answers = await pipe.execute()
        except Exception as exc:
            if not _redis_failure(exc):
                raise
            if window:  # the 131047 fallback covers what this loses
                log.warning("window.not_recorded", conversation_key=event.conversation_key, error=repr(exc))
            if reader is not None:
                self._metrics.count_read(event.provider.value, "failed")
                log.warning("read.failed", error=f"cannot claim: {exc!r}", **fields)
            return
        if reader is None:
            return
        if not answers[-1]:
            self._metrics.count_read(event.provider.value, "duplicate")
            log.info("read.duplicate", **fields)
            return
        try:
            await reader.mark_read(event)
        except SendFailed as failure:
            self._metrics.count_read(event.provider.value, "failed")
            log.warning("read.failed", error=str(failure), **fields)
            return
        self._metrics.count_read(event.provider.value, "marked")
        log.debug("read.marked", **fields)


def _redis_failure(exc: BaseException) -> bool:
    """Any Redis error, or a connection reset that redis-py let through unwrapped (common.outages)."""
    return isinstance(exc, RedisError) or is_transient(exc)
