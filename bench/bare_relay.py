"""The bare relay the pipeline is measured against: the same hops with no logic.

HTTP (FastAPI on uvicorn, signature check) → broker → consumer → broker → consumer → HTTP (aiohttp
POST to the Graph API stand-in), with the libraries the services use: FastStream over aio-pika,
persistent, mandatory, confirmed publishes, quorum queues, prefetch 32, uvloop. FastStream decodes
the JSON body, as it does for the services' consumers; the last hop reads the sender and message id
from the webhook to address the reply and tag it the way the notifier does
(``biz_opaque_callback_data`` = the reply's command id), so the same load generator and accounting
measure both. No access logs (the services run at WARNING, which drops theirs too).

Run as three processes: ``python bench/bare_relay.py http PORT AMQP_URL SECRET``,
``... hop AMQP_URL``, ``... out AMQP_URL GRAPH_URL``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import aiohttp
import uvicorn
import uvloop
from fastapi import FastAPI, Request, Response
from faststream.rabbit import Channel, ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue

from common.contracts import SendWhatsAppMessage

EXCHANGE = RabbitExchange("relay", type=ExchangeType.TOPIC, durable=True)
INBOUND = RabbitQueue("relay.inbound", durable=True, routing_key="inbound", queue_type=QueueType.QUORUM)
OUTBOUND = RabbitQueue("relay.outbound", durable=True, routing_key="outbound", queue_type=QueueType.QUORUM)


def broker(amqp_url: str) -> RabbitBroker:
    channel = Channel(prefetch_count=32, publisher_confirms=True, on_return_raises=True)
    return RabbitBroker(amqp_url, default_channel=channel, logger=None)


async def declare(b: RabbitBroker) -> None:
    exchange = await b.declare_exchange(EXCHANGE)
    for queue in (INBOUND, OUTBOUND):
        declared = await b.declare_queue(queue)
        await declared.bind(exchange, routing_key=queue.routing_key)


class Admission(Protocol):
    """What the skeleton adds to the webhook (``skeleton_relay.py``): ingress's dedupe. ``admit``
    returns what to call once the message is published, or None for a duplicate (dropped)."""

    async def admit(self, body: bytes) -> Callable[[], None] | None: ...


async def consume_forever(b: RabbitBroker, topology: Callable[[RabbitBroker], Awaitable[None]]) -> None:
    """Start ``b``'s subscribers on ``topology`` and serve until the process is stopped."""
    await b.start()
    await topology(b)
    await asyncio.Event().wait()


def http_app(
    amqp_url: str,
    secret: str,
    *,
    topology: Callable[[RabbitBroker], Awaitable[None]] = declare,
    admission: Admission | None = None,
) -> FastAPI:
    b = broker(amqp_url)
    key = secret.encode()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await b.connect()
        await topology(b)
        yield
        await b.stop()

    app = FastAPI(lifespan=lifespan)

    @app.post("/webhooks/meta")
    async def webhook(request: Request) -> Response:
        body = await request.body()
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-hub-signature-256", "")):
            return Response(status_code=403)
        published = await admission.admit(body) if admission is not None else None
        if admission is not None and published is None:
            return Response(status_code=200)
        await b.publish(body, exchange=EXCHANGE, routing_key="inbound", persist=True, mandatory=True)
        if published is not None:
            published()
        return Response(status_code=200)

    @app.get("/readyz")
    async def ready() -> Response:
        return Response(status_code=200)

    return app


async def hop(amqp_url: str) -> None:
    b = broker(amqp_url)

    @b.subscriber(INBOUND, EXCHANGE)
    async def forward(body: dict[str, Any]) -> None:
        await b.publish(body, exchange=EXCHANGE, routing_key="outbound", persist=True, mandatory=True)

    await consume_forever(b, declare)


async def out(amqp_url: str, graph_url: str) -> None:
    b = broker(amqp_url)
    url = f"{graph_url}/v25.0/relay/messages"
    session: aiohttp.ClientSession | None = None

    @b.subscriber(OUTBOUND, EXCHANGE)
    async def send(body: dict[str, Any]) -> None:
        message = body["entry"][0]["changes"][0]["value"]["messages"][0]
        payload = {
            "messaging_product": "whatsapp",
            "to": message["from"],
            "type": "text",
            "text": {"body": "ok"},
            "biz_opaque_callback_data": str(SendWhatsAppMessage.id_for_reply(message["id"], 0)),
        }
        assert session is not None
        async with session.post(url, json=payload) as response:
            await response.read()
            if response.status >= 300:
                raise RuntimeError(f"graph answered {response.status}")

    session = aiohttp.ClientSession()
    await consume_forever(b, declare)


def main() -> None:
    role, *args = sys.argv[1:]
    if role == "http":
        port, amqp_url, secret = args
        uvicorn.run(http_app(amqp_url, secret), host="127.0.0.1", port=int(port), log_level="warning")
    elif role == "hop":
        uvloop.run(hop(args[0]))  # the services run on uvloop too (uvicorn's default)
    elif role == "out":
        uvloop.run(out(args[0], args[1]))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()
