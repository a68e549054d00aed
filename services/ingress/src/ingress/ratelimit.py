"""Per-sender token bucket in Redis: a flood from one number is cut without touching anyone else.

One bucket per conversation (provider, business number, user), shared by every ingress replica;
refilled continuously by Redis's own clock, so replicas need not agree on the time.
"""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis

# KEYS[1] bucket; ARGV: capacity, refill per second. Returns 1 (allowed) or 0 (limited).
_BUCKET_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return allowed
"""


class RateLimiter(Protocol):
    async def allow(self, sender: str) -> bool: ...


class Unlimited:
    async def allow(self, sender: str) -> bool:
        return True


class RedisTokenBucket:
    def __init__(self, redis: Redis, *, burst: int, per_minute: float, prefix: str = "ingress:rate:") -> None:
        self._script = redis.register_script(_BUCKET_SCRIPT)
        self._burst = burst
        self._per_second = per_minute / 60
        self._prefix = prefix

    async def allow(self, sender: str) -> bool:
        allowed = await self._script(keys=[self._prefix + sender], args=[self._burst, self._per_second])
        return bool(allowed)
