"""Three conversation replicas share the work and still answer every user in order.

200 users × 20 messages are published on the real broker, round-robin across users (as bursts
arrive in production); the replies are read from the notifier's inbox shards (the notifier is not
running, so each shard keeps the publish order of its conversations). Every user's replies must follow their messages.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest

from common.messaging import EXCHANGE, NOTIFIER_INBOX, declare_topology, publish_headers
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import factories, infra
from devkit.processes import Supervisor, service_spec

pytestmark = pytest.mark.e2e

USERS, MESSAGES, REPLICAS = 200, 20, 3


@pytest.fixture
async def replicas(amqp_url, redis_url):
    env = {"ENVIRONMENT": "test", "AMQP_URL": amqp_url, "REDIS_URL": redis_url, "LOG_LEVEL": "INFO"}
    specs = []
    for n in range(1, REPLICAS + 1):
        spec = service_spec("conversation", infra.free_port(), env)
        specs.append(replace(spec, name=f"conversation-{n}"))
    supervisor = Supervisor(stop_timeout=20)
    await supervisor.start(specs)
    try:
        await supervisor.wait_ready(timeout=60)
        yield supervisor
    finally:
        await asyncio.shield(supervisor.stop())


def shards_held(supervisor: Supervisor) -> dict[str, int]:
    held = {}
    for child in supervisor.children:
        started = sum('"shard.started"' in line for line in child.lines)
        stopped = sum('"shard.stopped"' in line for line in child.lines)
        held[child.spec.name] = started - stopped
    return held


async def test_replicas_share_the_shards_and_keep_each_users_order(replicas, amqp_url):
    for _ in range(100):  # leases settle within a few ticks
        held = shards_held(replicas)
        if sum(held.values()) == 16 and max(held.values()) <= 6:
            break
        await asyncio.sleep(0.2)
    print(f"shards held per replica: {held}")
    assert sum(held.values()) == 16 and all(count >= 4 for count in held.values()), held

    broker = ServiceRuntime.build(ServiceSettings(amqp_url=amqp_url), name="test", version="0").broker
    await broker.connect()
    await declare_topology(broker)
    start = datetime(2027, 1, 10, 12, tzinfo=UTC)
    sent: dict[str, list[str]] = defaultdict(list)
    for m in range(MESSAGES):
        batch = []
        for u in range(USERS):
            key = f"meta:biz:55649{u:08d}"
            wamid = f"wamid.order.{u}.{m}"
            event = factories.message_received(
                provider_message_id=wamid,
                conversation_key=key,
                business_id="biz",
                text="oi" if m == 0 else f"mensagem {m}",
                sent_at=start + timedelta(seconds=m),
            )
            sent[key].append(wamid)
            batch.append(
                broker.publish(
                    event,
                    exchange=EXCHANGE,
                    routing_key=event.ROUTING_KEY,
                    message_type=event.message_type(),
                    headers=publish_headers(event),
                    persist=True,
                )
            )
        await asyncio.gather(*batch)
    await broker.stop()

    replies: dict[str, list[str]] = defaultdict(list)
    total = USERS * MESSAGES
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=1000)
        done = asyncio.Event()
        received = 0

        async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            command = json.loads(message.body)
            replies[command["conversation_key"]].append(command["in_reply_to"])
            received += 1
            if received >= total:
                done.set()

        # Shards are single-active-consumer quorum queues (no basic.get): consume each, in order.
        for n in range(NOTIFIER_INBOX.shards):
            queue = await channel.get_queue(NOTIFIER_INBOX.shard_name(n), ensure=False)
            await queue.consume(on_reply)
        await asyncio.wait_for(done.wait(), 240)
    assert set(replies) == set(sent)
    out_of_order = [key for key in sent if replies[key] != sent[key]]
    example = out_of_order[0] if out_of_order else ""
    assert not out_of_order, f"{len(out_of_order)} out of order, e.g. {replies[example]} for {sent[example]}"
    handled = {
        child.spec.name: sum('"message.handled"' in line for line in child.lines)
        for child in replicas.children
    }
    print(f"messages handled per replica: {handled}")
    assert sum(handled.values()) == total
    assert sum(1 for count in handled.values() if count > 0) == REPLICAS  # all three did work
