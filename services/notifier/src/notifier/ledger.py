"""Which send commands were carried out: the guard against double sends.

A command is *claimed* before calling the provider and marked *sent* (with the provider's id)
after; a failed send releases the claim. A claim left by a consumer that died mid-send is taken
over only by the broker's redelivery of that same message.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from redis.asyncio import Redis

CLAIM_TTL_S = 300  # longer than every attempt of one send together


class Claim(Enum):
    ACQUIRED = "acquired"
    ALREADY_SENT = "already_sent"
    IN_FLIGHT = "in_flight"


class Ledger(Protocol):
    async def claim(self, command_id: str, *, take_over: bool) -> Claim: ...
    async def mark_sent(self, command_id: str, provider_message_id: str) -> None: ...
    async def release(self, command_id: str) -> None: ...


class RedisLedger:
    def __init__(self, redis: Redis, sent_ttl_s: int, prefix: str = "notifier:send:") -> None:
        self._redis = redis
        self._sent_ttl_s = sent_ttl_s
        self._prefix = prefix

    async def claim(self, command_id: str, *, take_over: bool) -> Claim:
        key = self._prefix + command_id
        if await self._redis.set(key, "claimed", nx=True, ex=CLAIM_TTL_S):
            return Claim.ACQUIRED
        state = await self._redis.get(key)
        if state is None:  # the claim expired between the two calls
            return await self.claim(command_id, take_over=take_over)
        if str(state).startswith("sent:"):  # the client decodes responses to str
            return Claim.ALREADY_SENT
        if take_over:
            await self._redis.set(key, "claimed", ex=CLAIM_TTL_S)
            return Claim.ACQUIRED
        return Claim.IN_FLIGHT

    async def mark_sent(self, command_id: str, provider_message_id: str) -> None:
        await self._redis.set(self._prefix + command_id, f"sent:{provider_message_id}", ex=self._sent_ttl_s)

    async def release(self, command_id: str) -> None:
        await self._redis.delete(self._prefix + command_id)
