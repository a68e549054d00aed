"""Request/reply over RabbitMQ's direct reply-to, many requests in flight at once.

FastStream's ``request`` holds one lock per broker for the whole round trip, and consumes and
cancels the reply pseudo-queue around every request (FastStream issue #1318): a process asks one
question at a time, so every shard of the conversation inbox waits behind whichever one is asking
the registration service. Here one consumer of ``amq.rabbitmq.reply-to`` lives for the process's
lifetime on a channel of its own (direct reply-to needs the request published on the channel that
consumes the replies), and each request waits on its own future, matched by correlation id.

The request itself is the message a ``common.messaging.publisher`` sends (persistent, mandatory,
confirmed, same properties and ``traceparent``), with ``reply_to`` set; the answering side is a
lean consumer (``common.consumers``) whose handler returns the answer. A reply that comes after
its request gave up (timeout) is dropped: the asker has already answered the user. The channel is
robust: after a reconnection aio-pika restores the consumer; requests in flight then time out.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from faststream.rabbit import Channel, RabbitBroker
from opentelemetry import trace

from common.contracts import Contract
from common.messaging import EXCHANGE, contract_message, producer_span

if TYPE_CHECKING:
    from aio_pika.abc import AbstractExchange, AbstractIncomingMessage

REPLY_TO = "amq.rabbitmq.reply-to"


class RpcClient:
    def __init__(self, broker: RabbitBroker, *, app_id: str, tracer: trace.Tracer) -> None:
        self._broker = broker
        self._app_id = app_id
        self._tracer = tracer
        # FastStream keys channels by identity: this one is ours alone. Unroutable requests raise.
        self._channel = Channel(on_return_raises=True)
        self._exchange: AbstractExchange | None = None
        self._opening = asyncio.Lock()
        self._pending: dict[str, asyncio.Future[bytes]] = {}

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    async def request(self, message: Contract, *, timeout: float) -> bytes:
        """Publish ``message`` and wait for its reply's body; ``TimeoutError`` after ``timeout``."""
        correlation_id = uuid.uuid4().hex
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = answer
        try:
            async with asyncio.timeout(timeout):
                exchange = await self._open()
                with producer_span(self._tracer, message, correlation_id=correlation_id):
                    outgoing = contract_message(
                        message, app_id=self._app_id, correlation_id=correlation_id, reply_to=REPLY_TO
                    )
                    await exchange.publish(outgoing, routing_key=message.ROUTING_KEY, mandatory=True)
                return await answer
        finally:
            self._pending.pop(correlation_id, None)

    async def _open(self) -> AbstractExchange:
        if self._exchange is None:
            async with self._opening:
                if self._exchange is None:
                    channel = await self._broker.config.channel_manager.get_channel(self._channel)
                    replies = await channel.declare_queue(REPLY_TO, passive=True)
                    await replies.consume(self._on_reply, no_ack=True)
                    self._exchange = await channel.get_exchange(EXCHANGE.name, ensure=False)
        return self._exchange

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        answer = self._pending.get(message.correlation_id or "")
        if answer is not None and not answer.done():
            answer.set_result(message.body)
