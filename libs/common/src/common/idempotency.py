"""Do an effect once per key over at-least-once delivery: claim, then complete or release.

A key is *claimed* (short TTL) before the effect and *completed* (long TTL) after it; a failed
effect releases the claim so a retry can go through. If the worker dies between claim and effect,
the claim expires — or, when the broker redelivers the very same message, that redelivery may take
the claim over at once (``take_over``).
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from redis.asyncio import Redis

_CLAIMED = "claimed"
_DONE_PREFIX = "done:"


class Claim(Enum):
    ACQUIRED = "acquired"  # go ahead
    DONE = "done"  # already done: skip
    IN_FLIGHT = "in_flight"  # someone else is doing it now: skip


class Claims(Protocol):
    async def claim(self, key: str, *, take_over: bool = False) -> Claim: ...
    async def complete(self, key: str, result: str = "") -> None: ...
    async def release(self, key: str) -> None: ...


class RedisClaims:
    def __init__(self, redis: Redis, *, prefix: str, claim_ttl_s: int, done_ttl_s: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._claim_ttl_s = claim_ttl_s
        self._done_ttl_s = done_ttl_s

    async def claim(self, key: str, *, take_over: bool = False) -> Claim:
        name = self._prefix + key
        if await self._redis.set(name, _CLAIMED, nx=True, ex=self._claim_ttl_s):
            return Claim.ACQUIRED
        state = await self._redis.get(name)
        if state is None:  # it expired between the two calls
            return await self.claim(key, take_over=take_over)
        if str(state).startswith(_DONE_PREFIX):  # the client decodes responses to str
            return Claim.DONE
        if take_over:
            await self._redis.set(name, _CLAIMED, ex=self._claim_ttl_s)
            return Claim.ACQUIRED
        return Claim.IN_FLIGHT

    async def complete(self, key: str, result: str = "") -> None:
        await self._redis.set(self._prefix + key, _DONE_PREFIX + result, ex=self._done_ttl_s)

    async def release(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class InMemoryClaims:
    """The same rules in a dict, for unit tests (no expiry)."""

    def __init__(self) -> None:
        self.state: dict[str, str] = {}

    async def claim(self, key: str, *, take_over: bool = False) -> Claim:
        state = self.state.get(key)
        if state is None or (state == _CLAIMED and take_over):
            self.state[key] = _CLAIMED
            return Claim.ACQUIRED
        return Claim.DONE if state.startswith(_DONE_PREFIX) else Claim.IN_FLIGHT

    async def complete(self, key: str, result: str = "") -> None:
        self.state[key] = _DONE_PREFIX + result

    async def release(self, key: str) -> None:
        self.state.pop(key, None)
