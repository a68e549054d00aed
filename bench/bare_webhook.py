"""The baseline ingress is measured against: a bare FastAPI endpoint that checks the Meta signature
and publishes the raw body with confirms — no parsing, dedupe, tracing or metrics.

Run by bench/ingress.py as its own process: ``python bench/bare_webhook.py PORT AMQP_URL SECRET``.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request, Response
from faststream.rabbit import Channel, ExchangeType, RabbitBroker, RabbitExchange, RabbitQueue


def create_app(amqp_url: str, secret: str) -> FastAPI:
    broker = RabbitBroker(amqp_url, default_channel=Channel(publisher_confirms=True, on_return_raises=True))
    exchange = RabbitExchange("bench.bare", type=ExchangeType.TOPIC, durable=True)
    queue = RabbitQueue("bench.bare.received", durable=True, routing_key="received")
    key = secret.encode()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await broker.connect()
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
    uvicorn.run(create_app(amqp_url, secret), host="127.0.0.1", port=port, log_level="warning")
