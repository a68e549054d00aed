"""Dead letters: look at them, send them back where they died, or set them aside with a note.

Looking never removes a message: it is read without an ack and handed back when the channel
closes. Replaying publishes a copy (same id, type, headers, body) straight to the queue the message
died in — not to its routing key, which would reach every other subscriber again — waits for the
broker's confirm, then acks the dead letter. Discarding moves it to ``ops.discarded`` with the note,
who and when; nothing is ever deleted by this tool.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from ops.queues import DISCARDED


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    type: str | None
    died_in: str | None  # the queue it was dead-lettered from
    reason: str | None  # rejected | delivery_limit | expired | maxlen
    times: int
    first_death: str | None
    body: bytes

    @classmethod
    def of(cls, message: AbstractIncomingMessage) -> DeadLetter:
        raw = (message.headers or {}).get("x-death")
        deaths: list[Any] = list(raw) if isinstance(raw, list) else []
        first: dict[str, Any] = dict(deaths[0]) if deaths else {}
        return cls(
            message_id=message.message_id,
            type=message.type,
            died_in=_text(first.get("queue")),
            reason=_text(first.get("reason")),
            times=sum(int(d.get("count", 1)) for d in deaths) if deaths else 0,
            first_death=str(first.get("time")) if first.get("time") else None,
            body=message.body,
        )


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


Match = Callable[[DeadLetter], bool]


def matching(ids: list[str] | None = None, type_: str | None = None) -> Match:
    def match(letter: DeadLetter) -> bool:
        return (not ids or letter.message_id in ids) and (type_ is None or letter.type == type_)

    return match


async def _read(channel: AbstractChannel, queue_name: str, limit: int) -> list[AbstractIncomingMessage]:
    """Up to ``limit`` messages, unacked (they stay in the queue until acked or the channel closes)."""
    await channel.set_qos(prefetch_count=limit)
    queue = await channel.declare_queue(queue_name, passive=True)
    waiting = min(queue.declaration_result.message_count or 0, limit)
    got: list[AbstractIncomingMessage] = []
    if not waiting:
        return got
    async with queue.iterator(timeout=5) as messages:
        try:
            async for message in messages:
                got.append(message)
                if len(got) >= waiting:
                    break
        except TimeoutError:
            pass
    return got


async def inspect(
    connection: aio_pika.abc.AbstractConnection, queue_name: str, limit: int
) -> list[DeadLetter]:
    channel = await connection.channel()
    try:
        return [DeadLetter.of(m) for m in await _read(channel, queue_name, limit)]
    finally:
        await channel.close()  # unacked: every message goes back


async def replay(
    connection: aio_pika.abc.AbstractConnection, queue_name: str, match: Match, limit: int
) -> list[DeadLetter]:
    reading = await connection.channel()
    publishing = await connection.channel(publisher_confirms=True, on_return_raises=True)
    done: list[DeadLetter] = []
    try:
        for message in await _read(reading, queue_name, limit):
            letter = DeadLetter.of(message)
            if not match(letter) or letter.died_in is None:
                continue
            copy = _copy(message, {"x-replayed-from": queue_name, "x-replayed-at": _now()})
            await publishing.default_exchange.publish(copy, routing_key=letter.died_in, mandatory=True)
            await message.ack()
            done.append(letter)
    finally:
        await publishing.close()
        await reading.close()
    return done


async def discard(
    connection: aio_pika.abc.AbstractConnection, queue_name: str, match: Match, note: str, limit: int
) -> list[DeadLetter]:
    reading = await connection.channel()
    publishing = await connection.channel(publisher_confirms=True, on_return_raises=True)
    await publishing.declare_queue(DISCARDED, durable=True, arguments={"x-queue-type": "quorum"})
    done: list[DeadLetter] = []
    try:
        for message in await _read(reading, queue_name, limit):
            letter = DeadLetter.of(message)
            if not match(letter):
                continue
            headers = {
                "x-discard-note": note,
                "x-discarded-from": queue_name,
                "x-discarded-by": getpass.getuser(),
                "x-discarded-at": _now(),
            }
            await publishing.default_exchange.publish(
                _copy(message, headers), routing_key=DISCARDED, mandatory=True
            )
            await message.ack()
            done.append(letter)
    finally:
        await publishing.close()
        await reading.close()
    return done


def _copy(message: AbstractIncomingMessage, extra_headers: dict[str, str]) -> aio_pika.Message:
    headers = {k: v for k, v in (message.headers or {}).items() if k != "x-death"}
    return aio_pika.Message(
        message.body,
        headers={**headers, **extra_headers},
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        type=message.type,
        app_id=message.app_id,
        timestamp=message.timestamp,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


def run(coro: Any) -> Any:
    return asyncio.run(coro)
