"""Whether an event goes through: dedupe by provider event id and the per-sender rate limit.

``admit`` claims the event's key (short TTL) and, for a user message, takes a token from its
sender's bucket; ``complete`` remembers a published event for the dedupe TTL; ``release`` frees a
claim whose publish failed, so the provider's retry goes through. A key claimed and not yet
complete is ``IN_FLIGHT``: its publish may still fail, so the webhook is answered 503 (retry), not
200 — except in the process that has its confirm and is writing its completion. A claim left by a
crash (claimed, never published or released) expires after the claim TTL and the retry is accepted
then.

``RedisAdmission`` does the claim and the bucket in one Redis round trip (a Lua script, over the
pipelined connection of ``ingress.resp``), and batches
completions: the webhook's answer does not wait for them (a published event that is never completed,
because this process died or Redis hiccuped, is accepted again once its claim expires; consumers
dedupe on the provider message id). Keys and values are those of ``common.idempotency.RedisClaims``
(``claimed`` / ``done:<result>``), so replicas of either build agree.
"""

from __future__ import annotations

import asyncio
import hashlib
from enum import Enum
from typing import Any, Protocol

from common.idempotency import Claim, Claims, InMemoryClaims
from common.logging import get_logger
from ingress.ratelimit import BUCKET_LUA, RateLimiter, Unlimited
from ingress.resp import PipelinedRedis, RedisReplyError

log = get_logger(__name__)

RATE_LIMITED_RESULT = "rate_limited"


class Verdict(Enum):
    ACQUIRED = 0  # go ahead: publish, then complete (or release)
    DONE = 1  # published already
    IN_FLIGHT = 2  # being published right now (another request or replica)
    RATE_LIMITED = 3  # the sender is over its limit: remembered as handled, not published


class Admission(Protocol):
    async def admit(self, key: str, sender: str | None) -> Verdict:
        """Claim ``key``; for a ``sender`` (user messages only), also spend one of its tokens."""
        ...

    async def complete(self, key: str) -> None: ...
    async def release(self, key: str) -> None: ...


# KEYS[1] the event's key; KEYS[2] the sender's bucket (absent: no limit).
# ARGV: claim TTL, done TTL, then the bucket's capacity and refill per second.
_ADMIT_LUA = (
    """
if not redis.call('SET', KEYS[1], 'claimed', 'NX', 'EX', ARGV[1]) then
  local state = redis.call('GET', KEYS[1])
  if state and string.sub(state, 1, 5) == 'done:' then return 1 end
  return 2
end
if #KEYS < 2 then return 0 end
local bucket = KEYS[2]
local capacity = tonumber(ARGV[3])
local rate = tonumber(ARGV[4])
"""
    + BUCKET_LUA
    + f"""
if allowed == 1 then return 0 end
redis.call('SET', KEYS[1], 'done:{RATE_LIMITED_RESULT}', 'EX', ARGV[2])
return 3
"""
)

# Every KEYS[i] becomes done; ARGV: the value, the TTL.
_COMPLETE_LUA = """
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2]) end
return #KEYS
"""


class _Script:
    """Run by EVALSHA; loaded again when Redis has forgotten it (a restart or ``SCRIPT FLUSH``)."""

    def __init__(self, redis: PipelinedRedis, source: str) -> None:
        self._redis = redis
        self._source = source
        self._sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self._redis.execute("EVALSHA", self._sha, len(keys), *keys, *args)
        except RedisReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            await self._redis.execute("SCRIPT", "LOAD", self._source)
            return await self._redis.execute("EVALSHA", self._sha, len(keys), *keys, *args)


class RedisAdmission:
    def __init__(
        self,
        redis: PipelinedRedis,
        *,
        prefix: str,
        claim_ttl_s: int,
        done_ttl_s: int,
        rate_burst: int,
        rate_per_minute: float,
        rate_prefix: str = "ingress:rate:",
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._rate_prefix = rate_prefix
        self._admit = _Script(redis, _ADMIT_LUA)
        self._complete = _Script(redis, _COMPLETE_LUA)
        self._ttls = [claim_ttl_s, done_ttl_s]
        self._limited = bool(rate_burst and rate_per_minute)
        self._bucket = [rate_burst, rate_per_minute / 60]
        self._done_ttl_s = done_ttl_s
        self._pending: list[str] = []
        # Published, their completion queued or being written: for this process they are done.
        self._completing: set[str] = set()
        self._flushing: asyncio.Task[None] | None = None

    async def admit(self, key: str, sender: str | None) -> Verdict:
        if sender is not None and self._limited:
            keys = [self._prefix + key, self._rate_prefix + sender]
            verdict = Verdict(await self._admit(keys, [*self._ttls, *self._bucket]))
        else:
            verdict = Verdict(await self._admit([self._prefix + key], self._ttls))
        if verdict is Verdict.IN_FLIGHT and self._prefix + key in self._completing:
            return Verdict.DONE  # confirmed here; only its 'done' is still on its way to Redis
        return verdict

    async def complete(self, key: str) -> None:
        """Queued: one script call completes every key queued meanwhile (never awaited by a webhook)."""
        self._completing.add(self._prefix + key)
        self._pending.append(self._prefix + key)
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())

    async def release(self, key: str) -> None:
        await self._redis.execute("DEL", self._prefix + key)

    async def drain(self) -> None:
        """Wait for queued completions (at shutdown, before Redis closes)."""
        while self._flushing is not None:
            await asyncio.shield(self._flushing)

    async def _flush(self) -> None:
        try:
            while self._pending:
                keys, self._pending = self._pending, []
                try:
                    await self._complete(keys, ["done:", self._done_ttl_s])
                except Exception as exc:  # the claims expire; a re-delivery is deduped downstream
                    log.warning("dedupe.unavailable", error=repr(exc), uncompleted=len(keys))
                finally:
                    self._completing.difference_update(keys)
        finally:
            self._flushing = None


class InMemoryAdmission:
    """The same rules over ``common.idempotency`` claims and a ``RateLimiter``, for unit tests."""

    def __init__(self, claims: Claims | None = None, rate_limiter: RateLimiter | None = None) -> None:
        self.claims = claims or InMemoryClaims()
        self._limiter = rate_limiter or Unlimited()

    async def admit(self, key: str, sender: str | None) -> Verdict:
        claim = await self.claims.claim(key)
        if claim is not Claim.ACQUIRED:
            return Verdict.DONE if claim is Claim.DONE else Verdict.IN_FLIGHT
        if sender is not None and not await self._limiter.allow(sender):
            await self.claims.complete(key, RATE_LIMITED_RESULT)
            return Verdict.RATE_LIMITED
        return Verdict.ACQUIRED

    async def complete(self, key: str) -> None:
        await self.claims.complete(key)

    async def release(self, key: str) -> None:
        await self.claims.release(key)
