"""Where chat sessions live: Redis, one JSON document per conversation, expiring when idle.

A save is a compare-and-set on the session's ``revision``: it names the session it was computed
from (``over``) and is refused when the stored one moved on since. Two handlers of one
conversation should never overlap (shards, prefetch 1), but a reconnection can leave the first
one running beside the redelivery; without this the older one would save last and the chat
jump back several steps.
"""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis

from conversation.domain.session import ChatSession


class Sessions(Protocol):
    async def get(self, conversation_key: str) -> ChatSession | None: ...

    async def save(self, session: ChatSession, *, over: ChatSession | None) -> bool:
        """Store ``session`` (computed from ``over``, None: there was none); False when the
        stored session is no longer ``over`` (nothing written: reload and decide again)."""
        ...


# The revision is the first field whose name a user's text cannot precede (``ChatSession``);
# matching it is far cheaper than decoding the document. No document: -1.
_SAVE = """
local stored = redis.call('GET', KEYS[1])
local revision = -1
if stored then revision = tonumber(string.match(stored, '"revision":(%d+)') or '0') end
if revision ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""


class RedisSessions:
    def __init__(self, redis: Redis, ttl_s: int, prefix: str = "conversation:session:") -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._prefix = prefix
        self._save = redis.register_script(_SAVE)

    async def get(self, conversation_key: str) -> ChatSession | None:
        raw = await self._redis.get(self._prefix + conversation_key)
        return None if raw is None else ChatSession.model_validate_json(raw)

    async def save(self, session: ChatSession, *, over: ChatSession | None) -> bool:
        expected = -1 if over is None else over.revision
        document = session.model_copy(update={"revision": expected + 1}).model_dump_json()
        keys = [self._prefix + session.conversation_key]
        return bool(await self._save(keys=keys, args=[expected, document, self._ttl_s]))


class InMemorySessions:
    """A fake for unit tests of the use case (the same compare-and-set)."""

    def __init__(self) -> None:
        self.items: dict[str, ChatSession] = {}

    async def get(self, conversation_key: str) -> ChatSession | None:
        return self.items.get(conversation_key)

    async def save(self, session: ChatSession, *, over: ChatSession | None) -> bool:
        stored = self.items.get(session.conversation_key)
        expected = -1 if over is None else over.revision
        if (-1 if stored is None else stored.revision) != expected:
            return False
        self.items[session.conversation_key] = session.model_copy(update={"revision": expected + 1})
        return True
