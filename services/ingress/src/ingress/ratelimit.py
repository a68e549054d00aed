"""Per-sender token bucket in Redis: a flood from one number is cut without touching anyone else.

One bucket per conversation (provider, business number, user), shared by every ingress replica;
refilled continuously by Redis's own clock, so replicas need not agree on the time. The bucket is
spent in the same script that claims the event (``ingress.admission``): one Redis round trip.
"""

from __future__ import annotations

from typing import Protocol

# Lua, inside a script: expects locals ``bucket`` (key), ``capacity`` and ``rate`` (tokens per
# second); leaves ``allowed`` = 1 (a token was taken) or 0 (limited).
BUCKET_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', bucket, 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', bucket, 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', bucket, math.ceil(capacity / rate) + 1)
"""


class RateLimiter(Protocol):
    """The rule on its own, for ``ingress.admission.InMemoryAdmission`` (unit tests)."""

    async def allow(self, sender: str) -> bool: ...


class Unlimited:
    async def allow(self, sender: str) -> bool:
        return True
