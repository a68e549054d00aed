"""The skeleton: the bare relay plus the I/O congress-bot's architecture does per line, no logic.

It answers "how fast could these hops be if our code cost nothing": every exchange with the
broker, Redis, PostgreSQL and the Graph API that the four services make for one user line, with
the bare relay's libraries and style (``bare_relay.py``), and none of the dialogue, contracts,
logging, metrics or tracing. Per line, as the services do it:

- ``http`` (ingress): signature check; the dedupe claim + rate limit (one Redis script, awaited);
  publish; the claim's completion (a second script, not awaited by the webhook).
- ``hop`` (conversation): the session's read (GET of a ~3 KB value) and its compare-and-set write
  (a script); on 5 lines in 14 a request/reply to ``registry`` over direct reply-to (the identity
  checks, the submit, "minha inscrição"); publish the reply's send command.
- ``registry`` (registration): one autocommitted PostgreSQL ``SELECT``; the reply.
- ``out`` (notifier): the send (delivery log ``INSERT`` before, ``UPDATE`` after, the Graph POST
  between) and, on a second queue bound to the same inbound messages, the read path (the window
  record and the read claim in one Redis pipeline, then the read-mark POST).

Left out, so the skeleton is cheaper than the architecture, never dearer: the confirmation e-mail
(SMTP) and the outbox's ``registration.completed`` event once per registration, the submit's
transaction (a ``SELECT`` here), and the sharding exchanges in front of the inbox queues.

Run as four processes: ``python bench/skeleton_relay.py http PORT AMQP_URL SECRET REDIS_URL``,
``... hop AMQP_URL REDIS_URL``, ``... registry AMQP_URL DATABASE_URL``,
``... out AMQP_URL GRAPH_URL REDIS_URL DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import zlib
from collections.abc import Callable
from typing import Any

import aiohttp
import asyncpg
import uvicorn
import uvloop
from bare_relay import EXCHANGE, INBOUND, OUTBOUND, broker, consume_forever, http_app
from faststream.rabbit import QueueType, RabbitBroker, RabbitQueue
from opentelemetry import trace
from redis.asyncio import Redis

from common.contracts import CheckIdentity, SendWhatsAppMessage
from common.messaging import EXCHANGE as RPC_EXCHANGE
from common.rpc import RpcClient

RECEIVED = RabbitQueue("relay.received", durable=True, routing_key="inbound", queue_type=QueueType.QUORUM)
REGISTRY = RabbitQueue(
    "relay.registry", durable=True, routing_key=CheckIdentity.ROUTING_KEY, queue_type=QueueType.QUORUM
)
RPC_SHARE = (5, 14)  # lines of the script that ask the registration service, of all lines
SESSION = json.dumps({"revision": 0, "form": {"field": "x" * 3000}})  # a live session: ~3 KB
ADMIT = "if redis.call('SET', KEYS[1], '1', 'NX', 'EX', 600) then return 1 end return 0"
COMPLETE = "return redis.call('SET', KEYS[1], '2', 'EX', 600)"
SAVE = """
local stored = redis.call('GET', KEYS[1])
local revision = -1
if stored then revision = tonumber(string.match(stored, '"revision":(%d+)') or '0') end
if revision ~= -1 and revision ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', 3600)
return 1
"""
WINDOW = "return redis.call('SET', KEYS[1], ARGV[1], 'EX', 86400)"
TABLES = """
CREATE TABLE IF NOT EXISTS skeleton_deliveries (id uuid PRIMARY KEY, status text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS skeleton_participants (cpf text PRIMARY KEY, email text NOT NULL);
"""


async def declare(b: RabbitBroker) -> None:
    exchange = await b.declare_exchange(EXCHANGE)
    for queue in (INBOUND, OUTBOUND, RECEIVED):
        declared = await b.declare_queue(queue)
        await declared.bind(exchange, routing_key=queue.routing_key)
    rpc_exchange = await b.declare_exchange(RPC_EXCHANGE)
    registry = await b.declare_queue(REGISTRY)
    await registry.bind(rpc_exchange, routing_key=REGISTRY.routing_key)


async def keep(_: asyncpg.Connection) -> None:
    """No reset query on release (asyncpg's default sends one per use: RESET ALL, UNLISTEN *…);
    SQLAlchemy's pool, which the services use, sends none for a connection with no transaction."""


def inbound_message(body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = body["entry"][0]["changes"][0]["value"]["messages"][0]
    return message


class Dedupe:
    """Ingress's claim (awaited before the publish) and its completion (not awaited)."""

    def __init__(self, redis_url: str) -> None:
        redis = Redis.from_url(redis_url)
        self._admit, self._complete = redis.register_script(ADMIT), redis.register_script(COMPLETE)
        self._background: set[asyncio.Task[Any]] = set()

    async def admit(self, body: bytes) -> Callable[[], None] | None:
        key = f"dedupe:{inbound_message(json.loads(body))['id']}"
        if not await self._admit(keys=[key]):
            return None
        return lambda: self._completed(key)

    def _completed(self, key: str) -> None:
        task = asyncio.create_task(self._complete(keys=[key]))
        self._background.add(task)
        task.add_done_callback(self._background.discard)


async def hop(amqp_url: str, redis_url: str) -> None:
    b = broker(amqp_url)
    redis = Redis.from_url(redis_url)
    save = redis.register_script(SAVE)
    rpc = RpcClient(b, app_id="skeleton", tracer=trace.NoOpTracer())

    @b.subscriber(INBOUND, EXCHANGE)
    async def forward(body: dict[str, Any]) -> None:
        message = inbound_message(body)
        session_key = "session:" + message["from"]
        before = await redis.get(session_key)
        if zlib.crc32(message["id"].encode()) % RPC_SHARE[1] < RPC_SHARE[0]:
            ask = CheckIdentity(event_id="e", conversation_key=session_key, cpf="52998224725", email=None)
            await rpc.request(ask, timeout=10)
        await save(keys=[session_key], args=[0 if before else -1, SESSION])
        await b.publish(body, exchange=EXCHANGE, routing_key="outbound", persist=True, mandatory=True)

    await consume_forever(b, declare)


async def registry(amqp_url: str, database_url: str) -> None:
    b = broker(amqp_url)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4, reset=keep)

    @b.subscriber(REGISTRY, RPC_EXCHANGE)
    async def check(body: dict[str, Any]) -> dict[str, bool]:  # FastStream replies to reply_to
        taken = await pool.fetchval("SELECT email FROM skeleton_participants WHERE cpf = $1", body["cpf"])
        return {"taken": taken is not None}

    await consume_forever(b, declare)


async def out(amqp_url: str, graph_url: str, redis_url: str, database_url: str) -> None:
    b = broker(amqp_url)
    url = f"{graph_url}/v25.0/relay/messages"
    redis = Redis.from_url(redis_url)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=8, reset=keep)
    session = aiohttp.ClientSession()

    async def post(payload: dict[str, Any]) -> None:
        async with session.post(url, json=payload) as response:
            await response.read()
            if response.status >= 300:
                raise RuntimeError(f"graph answered {response.status}")

    @b.subscriber(OUTBOUND, EXCHANGE)
    async def send(body: dict[str, Any]) -> None:
        message = inbound_message(body)
        command_id = SendWhatsAppMessage.id_for_reply(message["id"], 0)
        claimed = await pool.fetchval(
            "INSERT INTO skeleton_deliveries (id, status) VALUES ($1, 'sending') "
            "ON CONFLICT (id) DO NOTHING RETURNING status",
            command_id,
        )
        if claimed is None:
            return
        await post({"messaging_product": "whatsapp", "to": message["from"], "type": "text",
                    "text": {"body": "ok"}, "biz_opaque_callback_data": str(command_id)})  # fmt: skip
        await pool.execute(
            "UPDATE skeleton_deliveries SET status = 'sent', updated_at = now() WHERE id = $1", command_id
        )

    @b.subscriber(RECEIVED, EXCHANGE)
    async def read(body: dict[str, Any]) -> None:
        message = inbound_message(body)
        pipe = redis.pipeline(transaction=False)
        pipe.eval(WINDOW, 1, "window:" + message["from"], message["timestamp"])
        pipe.set("read:" + message["id"], "1", nx=True, ex=3600)
        if (await pipe.execute())[-1]:
            await post({"messaging_product": "whatsapp", "status": "read", "message_id": message["id"]})

    async with pool.acquire() as connection:
        await connection.execute(TABLES)
    await consume_forever(b, declare)


def main() -> None:
    role, *args = sys.argv[1:]
    if role == "http":
        port, amqp_url, secret, redis_url = args
        app = http_app(amqp_url, secret, topology=declare, admission=Dedupe(redis_url))
        uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")
    elif role == "hop":
        uvloop.run(hop(*args))
    elif role == "registry":
        uvloop.run(registry(*args))
    elif role == "out":
        uvloop.run(out(*args))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()
