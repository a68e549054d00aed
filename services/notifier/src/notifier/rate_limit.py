"""Outbound rate limits shared by every replica (Redis fixed windows).

Meta allows a business number about 80 messages/s by default (error 130429 beyond) and a burst
to one person followed by a pause (131056, "pair rate"). Waiting a fraction of a window here is
cheaper than being refused and going through a retry tier.

Redis unreachable, decided: the limits are lifted (fail open) until it answers again, with a
warning. They only spare the provider a refusal, and a refusal is retried like any other (429,
130429, 131056 go to a retry tier); a send, by contrast, must not stop or be dead-lettered because
a counter is out of reach. The delivery log, not Redis, keeps sends exactly-once.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from common.logging import get_logger

log = get_logger(__name__)
_WARN_EVERY_S = 10.0


@dataclass(frozen=True)
class Limit:
    count: int  # 0: no limit
    window_s: float


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str = "notifier:rate") -> None:
        self._redis = redis
        self._prefix = prefix
        self._warned_at = -_WARN_EVERY_S
        self.unavailable = 0  # acquisitions let through because Redis did not answer

    async def acquire(self, key: str, limit: Limit) -> float:
        """Wait until ``key`` may send once more within ``limit``; return the seconds waited."""
        if limit.count <= 0:
            return 0.0
        waited = 0.0
        while True:
            now = time.time()
            window = int(now // limit.window_s)
            name = f"{self._prefix}:{key}:{window}"
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.incr(name)
                    pipe.pexpire(name, int(limit.window_s * 2000))
                    count, _ = await pipe.execute()
            except (RedisError, OSError) as exc:
                self._unavailable(key, exc)
                return waited
            if int(count) <= limit.count:
                return waited
            pause = (window + 1) * limit.window_s - now
            await asyncio.sleep(pause)
            waited += pause

    def _unavailable(self, key: str, exc: BaseException) -> None:
        self.unavailable += 1
        if time.monotonic() - self._warned_at >= _WARN_EVERY_S:  # one line per outage, not per send
            self._warned_at = time.monotonic()
            log.warning("rate_limit.unavailable", key=key, error=repr(exc)[:300], passed=self.unavailable)
