"""Registration events as a subscriber would see them, across broker restarts.

``devkit.bus.tap`` uses an exclusive queue, which vanishes when the broker restarts (and with it
whatever was published meanwhile). Here the queue is durable and the connection robust: after a
restart the consumer comes back and nothing published in between is missed. The queue lives in
the run's throwaway vhost and goes with it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aio_pika

from common.messaging import EXCHANGE


@asynccontextmanager
async def registration_events(
    amqp_url: str, routing_key: str = "registration.completed"
) -> AsyncIterator[list[dict[str, Any]]]:
    """Bodies of the events published with ``routing_key`` from now on, in arrival order."""
    connection = await aio_pika.connect_robust(amqp_url)
    seen: list[dict[str, Any]] = []
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=500)
        exchange = await channel.declare_exchange(EXCHANGE.name, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(f"harness.{routing_key}", durable=True)
        await queue.bind(exchange, routing_key=routing_key)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            seen.append(json.loads(message.body))
            await message.ack()

        await queue.consume(on_message)
        yield seen
