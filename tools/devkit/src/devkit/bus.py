"""Watch the bus from a test or a benchmark: an exclusive queue bound to ``congress`` that receives a
copy of every message with a routing key, whatever the services' own queues look like; and read a
queue's messages (``take``) or count them (``waiting``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from faststream.rabbit import RabbitBroker

from common.messaging import EXCHANGE


class Tap:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.arrived_at: list[float] = []
        self._changed = asyncio.Event()

    def _on(self, body: dict[str, Any]) -> None:
        self.bodies.append(body)
        self.arrived_at.append(asyncio.get_running_loop().time())
        self._changed.set()

    async def wait_for(self, count: int, timeout: float) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while len(self.bodies) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.bodies


@asynccontextmanager
async def tap(amqp_url: str, routing_key: str) -> AsyncIterator[Tap]:
    """Copies of the messages published with ``routing_key`` from now on (JSON bodies)."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=500)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(EXCHANGE.name, routing_key=routing_key)
        watched = Tap()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            watched._on(json.loads(message.body))
            await message.ack()

        await queue.consume(on_message)
        yield watched


async def take(broker: RabbitBroker, queue: str, timeout: float = 10) -> AbstractIncomingMessage:
    """The next message waiting in ``queue`` (acked), read on a channel of its own."""
    connection = broker._connection  # FastStream's robust connection; no public accessor
    assert connection is not None
    channel = await connection.channel()
    try:
        q = await channel.get_queue(queue, ensure=False)
        async with asyncio.timeout(timeout):
            while True:
                got = await q.get(fail=False)
                if got is not None:
                    break
                await asyncio.sleep(0.05)
        await got.ack()
        return got
    finally:
        await channel.close()


async def waiting(broker: RabbitBroker, queue: str) -> int:
    """How many messages wait in ``queue`` (ready, not unacked)."""
    connection = broker._connection
    assert connection is not None
    channel = await connection.channel()
    try:
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0
    finally:
        await channel.close()
