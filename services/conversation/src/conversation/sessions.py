"""Where chat sessions live: Redis, one JSON document per conversation, expiring when idle."""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis

from conversation.domain.session import ChatSession


class Sessions(Protocol):
    async def get(self, conversation_key: str) -> ChatSession | None: ...
    async def save(self, session: ChatSession) -> None: ...


class RedisSessions:
    def __init__(self, redis: Redis, ttl_s: int, prefix: str = "conversation:session:") -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._prefix = prefix

    async def get(self, conversation_key: str) -> ChatSession | None:
        raw = await self._redis.get(self._prefix + conversation_key)
        return None if raw is None else ChatSession.model_validate_json(raw)

    async def save(self, session: ChatSession) -> None:
        await self._redis.set(
            self._prefix + session.conversation_key, session.model_dump_json(), ex=self._ttl_s
        )


class InMemorySessions:
    """A fake for unit tests of the use case."""

    def __init__(self) -> None:
        self.items: dict[str, ChatSession] = {}

    async def get(self, conversation_key: str) -> ChatSession | None:
        return self.items.get(conversation_key)

    async def save(self, session: ChatSession) -> None:
        self.items[session.conversation_key] = session
