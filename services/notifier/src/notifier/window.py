"""Meta's 24-hour customer-service window, as far as the notifier knows it (Redis).

Meta takes free-form messages only within 24 hours of the user's last message; outside it, only
templates (error 131047). Each inbound Meta message (``message.received``) records its time per
conversation, and a free-form send asks first:

- ``OPEN``: the user wrote less than 24 hours ago: send as asked.
- ``CLOSED``: the last message we know of is older: the template goes instead, without a call
  that Meta would refuse.
- ``UNKNOWN``: nothing recorded (the user never wrote to this number, or not for
  ``MEMORY_S``; Redis lost the key or does not answer): send as asked; a 131047 still falls back
  to the template, so stale or missing knowledge costs one refused call, never a lost message.

Redis rather than the delivery log: the record is one small key per conversation whose expiry is
part of its meaning, it is read on every Meta send (a GET, not a query), and the notifier already
depends on Redis (rate limits, shard leases). It is kept ``MEMORY_S`` past the message, not 24 h:
an expired key would say "unknown" exactly when the window is known to be closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from common.logging import get_logger

log = get_logger(__name__)

WINDOW_S = 24 * 3600
# Meta's clock and ours differ by a little: within this much of the end, let Meta decide.
GRACE_S = 60
MEMORY_S = 30 * 24 * 3600

# Keeps the newest time: a late or redelivered older message never moves the window back.
_RECORD = """
local old = tonumber(redis.call('GET', KEYS[1]))
if old and old >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1
"""


class WindowState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


class CustomerWindows:
    def __init__(
        self, redis: Redis, *, prefix: str = "notifier:window", clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._clock = clock

    def _key(self, conversation_key: str) -> str:
        return f"{self._prefix}:{conversation_key}"

    def record(self, pipe: Pipeline, conversation_key: str, at: datetime) -> bool:
        """Queue on ``pipe`` that the user wrote at ``at`` (with the caller's other commands: one
        round trip); False, nothing queued, when that is too old to matter. Its result in the
        pipeline's: 1 recorded, 0 a newer message already was."""
        at_ms = int(at.timestamp() * 1000)
        forget_at_ms = at_ms + MEMORY_S * 1000
        if forget_at_ms <= self._clock() * 1000:
            return False
        # EVAL with the (short) source, not a registered script: redis-py sends SCRIPT EXISTS
        # before every pipeline that carries one, a second round trip per message.
        pipe.eval(_RECORD, 1, self._key(conversation_key), at_ms, forget_at_ms)
        return True

    async def state(self, conversation_key: str) -> WindowState:
        """What we know of the window now; UNKNOWN when Redis does not answer (never blocks a send)."""
        try:
            value = await self._redis.get(self._key(conversation_key))
        except RedisError as exc:
            log.warning("window.unknown", conversation_key=conversation_key, error=repr(exc))
            return WindowState.UNKNOWN
        if value is None:
            return WindowState.UNKNOWN
        since_s = self._clock() - int(value) / 1000
        return WindowState.OPEN if since_s < WINDOW_S + GRACE_S else WindowState.CLOSED
