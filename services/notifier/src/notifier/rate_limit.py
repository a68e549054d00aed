"""Outbound rate limits shared by every replica (Redis fixed windows).

Meta allows a business number about 80 messages/s by default (error 130429 beyond) and a burst
to one person followed by a pause (131056, "pair rate"). Waiting a fraction of a window here is
cheaper than being refused and going through a retry tier.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from redis.asyncio import Redis


@dataclass(frozen=True)
class Limit:
    count: int  # 0: no limit
    window_s: float


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str = "notifier:rate") -> None:
        self._redis = redis
        self._prefix = prefix

    async def acquire(self, key: str, limit: Limit) -> float:
        """Wait until ``key`` may send once more within ``limit``; return the seconds waited."""
        if limit.count <= 0:
            return 0.0
        waited = 0.0
        while True:
            now = time.time()
            window = int(now // limit.window_s)
            name = f"{self._prefix}:{key}:{window}"
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.incr(name)
                pipe.pexpire(name, int(limit.window_s * 2000))
                count, _ = await pipe.execute()
            if int(count) <= limit.count:
                return waited
            pause = (window + 1) * limit.window_s - now
            await asyncio.sleep(pause)
            waited += pause
