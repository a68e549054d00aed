"""Accept each provider message once, across re-deliveries and concurrent duplicates.

A message is *claimed* (short TTL) before publishing and *confirmed* (long TTL) once the broker
confirms; a failed publish releases the claim so the provider's retry goes through. If ingress dies
between claim and publish, the claim expires and a later re-delivery is accepted.
"""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis

CLAIM_TTL_S = 60


class Deduplicator(Protocol):
    async def claim(self, key: str) -> bool: ...
    async def confirm(self, key: str) -> None: ...
    async def release(self, key: str) -> None: ...


class RedisDeduplicator:
    def __init__(self, redis: Redis, ttl_s: int, prefix: str = "ingress:seen:") -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._prefix = prefix

    async def claim(self, key: str) -> bool:
        return bool(await self._redis.set(self._prefix + key, "claimed", nx=True, ex=CLAIM_TTL_S))

    async def confirm(self, key: str) -> None:
        await self._redis.set(self._prefix + key, "published", ex=self._ttl_s)

    async def release(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
