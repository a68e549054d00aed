"""Ingress against the real RabbitMQ and Redis: what is accepted is in the queue, durably."""

import asyncio
import json

import aio_pika
import httpx
import pytest
from asgi_lifespan import LifespanManager

from common.messaging import (
    CONVERSATION_INBOX,
    NOTIFIER_MESSAGES_RECEIVED,
    OPS_PARKED_WEBHOOKS,
    declare_topology,
)
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import samples
from ingress.app import create_app
from ingress.config import IngressSettings

pytestmark = pytest.mark.integration
SECRET = "integration-secret"
INBOX = [CONVERSATION_INBOX.shard_name(shard) for shard in range(CONVERSATION_INBOX.shards)]


@pytest.fixture
async def ingress(amqp_url, redis_url):
    settings = IngressSettings(
        amqp_url=amqp_url, redis_url=redis_url, meta_app_secret=SECRET, evolution_webhook_token="evo-token"
    )
    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://t") as c,
    ):
        yield c


@pytest.fixture
async def channel(amqp_url):
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield await connection.channel()


async def post(client, body: bytes) -> httpx.Response:
    return await client.post(
        "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": samples.meta_signature(SECRET, body)}
    )


async def drain(channel, *queue_names: str) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """Take every message waiting in these queues (by consuming: shard queues refuse basic.get)."""
    got = []
    for name in queue_names:
        queue = await channel.declare_queue(name, passive=True)
        waiting = queue.declaration_result.message_count
        if not waiting:
            continue
        async with queue.iterator(timeout=5) as messages:
            async for message in messages:
                await message.ack()
                got.append(message)
                waiting -= 1
                if not waiting:
                    break
    return got


async def test_accepted_message_waits_in_the_conversation_queue_persistently(ingress, channel):
    await drain(channel, *INBOX)
    body = samples.meta_text("quero me inscrever", wamid="wamid.integration-1")
    r = await post(ingress, body)
    assert r.status_code == 200
    [message] = await drain(channel, *INBOX)
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.type == "message.received.v1"
    assert "traceparent" in message.headers
    payload = json.loads(message.body)
    assert payload["text"] == "quero me inscrever"
    assert payload["provider_message_id"] == "wamid.integration-1"
    assert message.message_id == payload["message_id"]
    # The conversation key picks the shard: one conversation, one ordered queue.
    assert message.headers["x-partition-key"] == payload["conversation_key"]


async def redeclare_topology(amqp_url: str) -> None:
    """Put the queues back the way every service does at start."""
    broker = ServiceRuntime.build(ServiceSettings(amqp_url=amqp_url), name="test", version="0").broker
    await broker.connect()
    try:
        await declare_topology(broker)
    finally:
        await broker.stop()


async def test_unroutable_publish_is_503_then_the_retry_goes_through(ingress, channel, amqp_url):
    # No route left for message.received: the conversation inbox and the notifier's read marks.
    await channel.exchange_delete(CONVERSATION_INBOX.name)
    await channel.queue_delete(NOTIFIER_MESSAGES_RECEIVED.name)
    body = samples.meta_text("oi", wamid="wamid.integration-unroutable")
    try:
        r = await post(ingress, body)
        assert r.status_code == 503
        assert r.headers["Retry-After"]
    finally:
        await redeclare_topology(amqp_url)
    retry = await post(ingress, body)
    assert retry.status_code == 200
    assert retry.json()["published"] == 1
    [message] = await drain(channel, *INBOX)
    assert json.loads(message.body)["provider_message_id"] == "wamid.integration-unroutable"


async def test_readiness_reports_broker_and_cache_latency(ingress):
    body = (await ingress.get("/readyz")).json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"broker", "cache"}
    assert all(c["ok"] and c["latency_ms"] >= 0 for c in body["checks"].values())


async def test_a_webhook_nobody_understands_is_parked_in_its_queue(ingress, channel):
    await drain(channel, OPS_PARKED_WEBHOOKS.name)
    body = b'{"object": "whatsapp_business_account", "entry": "not a list"}'
    r = await post(ingress, body)
    assert r.status_code == 200
    assert r.json()["parked"] == 1
    [parked] = await drain(channel, OPS_PARKED_WEBHOOKS.name)
    assert parked.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    payload = json.loads(parked.body)
    assert payload["body"] == body.decode()
    assert payload["provider"] == "meta"
    assert "entry" in payload["reason"]


async def test_evolution_webhook_by_events_url_reaches_the_conversation_queue(ingress, channel):
    await drain(channel, *INBOX)
    body = json.dumps({
        "event": "messages.upsert", "instance": "congresso",
        "data": {"key": {"remoteJid": "13718@lid", "fromMe": False, "id": "3EB0INTEGRATION"},
                 "pushName": "Rodrigo", "message": {"conversation": "Oi"}, "messageTimestamp": 1773027345},
    }).encode()  # fmt: skip
    headers = {"X-Webhook-Token": "evo-token"}
    r = await ingress.post("/webhooks/evolution/messages-upsert", content=body, headers=headers)
    assert r.status_code == 200, r.text
    again = await ingress.post("/webhooks/evolution", content=body, headers=headers)
    assert again.json()["duplicates"] == 1
    [message] = await drain(channel, *INBOX)
    payload = json.loads(message.body)
    assert (payload["provider"], payload["text"], payload["reply_to"]["id"]) == (
        "evolution",
        "Oi",
        "13718@lid",
    )


@pytest.fixture
async def ingress_with_evolution_source(amqp_url, redis_url):
    settings = IngressSettings(
        amqp_url=amqp_url,
        redis_url=redis_url,
        evolution_amqp_url=amqp_url,  # Evolution often shares the broker; a separate URL works alike
        evolution_amqp_exchange="evolution_exchange",
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def test_evolution_native_rabbitmq_output_is_consumed_like_its_webhooks(
    ingress_with_evolution_source, channel
):
    await drain(channel, *INBOX)
    ready = (await ingress_with_evolution_source.get("/readyz")).json()
    assert ready["checks"]["evolution_broker"]["ok"] is True
    exchange = await channel.get_exchange("evolution_exchange")
    event = {
        "event": "messages.upsert", "instance": "congresso", "server_url": "http://evolution:8080",
        "date_time": "2026-11-23T09:00:00.000Z", "sender": "5564900009999@s.whatsapp.net", "apikey": "x",
        "data": {"key": {"remoteJid": "5564900000003@s.whatsapp.net", "fromMe": False, "id": "3EB0AMQP"},
                 "pushName": "Ana", "message": {"conversation": "quero me inscrever"}, "messageTimestamp": 1773027345},
    }  # fmt: skip
    # As Evolution publishes: no content type, routing key = the event name.
    await exchange.publish(aio_pika.Message(json.dumps(event).encode()), routing_key="messages.upsert")
    await exchange.publish(
        aio_pika.Message(json.dumps(event).encode()), routing_key="messages.upsert"
    )  # again
    await exchange.publish(aio_pika.Message(b"not json"), routing_key="messages.upsert")
    received = []
    for _ in range(50):
        received += await drain(channel, *INBOX)
        if received:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    received += await drain(channel, *INBOX)
    [message] = received  # the repeat is deduped
    payload = json.loads(message.body)
    assert (payload["provider"], payload["text"], payload["phone"]) == (
        "evolution",
        "quero me inscrever",
        "+5564900000003",
    )
    parked = await drain(channel, OPS_PARKED_WEBHOOKS.name)
    assert [json.loads(p.body)["body"] for p in parked] == ["not json"]
