"""The baseline ingress is measured against: a bare FastAPI endpoint that checks the Meta signature
and publishes the raw body with confirms — no parsing, dedupe, tracing or metrics.

Run by bench/ingress.py as its own process: ``python bench/bare_webhook.py PORT AMQP_URL SECRET
[QUORUM]``. With QUORUM = N > 0 the body goes to N quorum queues instead of one classic queue, as a
user message does in production (conversation's inbox shard and the notifier's queue): a quorum
queue confirms only once its Raft log has the message, on disk.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request, Response
from faststream.rabbit import Channel, ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue


def create_app(amqp_url: str, secret: str, quorum: int = 0) -> FastAPI:
    broker = RabbitBroker(amqp_url, default_channel=Channel(publisher_confirms=True, on_return_raises=True))
    exchange = RabbitExchange("bench.bare", type=ExchangeType.TOPIC, durable=True)
    queues = [RabbitQueue("bench.bare.received", durable=True, routing_key="received")]
    if quorum:
        queues = [
            RabbitQueue(
                f"bench.bare.quorum.{n}", durable=True, queue_type=QueueType.QUORUM, routing_key="received"
            )
            for n in range(quorum)
        ]
    key = secret.encode()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await broker.connect()
        for queue in queues:
            declared = await broker.declare_queue(queue)
            await declared.bind(await broker.declare_exchange(exchange), routing_key="received")
        yield
        await broker.stop()

    app = FastAPI(lifespan=lifespan)

    @app.post("/webhook")
    async def webhook(request: Request) -> Response:
        body = await request.body()
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-hub-signature-256", "")):
            return Response(status_code=403)
        await broker.publish(body, exchange=exchange, routing_key="received", persist=True, mandatory=True)
        return Response(status_code=200)

    return app


if __name__ == "__main__":
    port, amqp_url, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    quorum = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    uvicorn.run(create_app(amqp_url, secret, quorum), host="127.0.0.1", port=port, log_level="warning")
