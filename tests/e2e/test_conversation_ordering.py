"""Three conversation replicas share the work and still answer every user in order.

200 users × 20 messages are published on the real broker, round-robin across users (as bursts
arrive in production); the replies are watched on the bus in publish order (no notifier runs).
Every user's replies must follow their messages.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from common.contracts import SendWhatsAppMessage
from common.messaging import EXCHANGE, declare_topology, publish_headers
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import factories, infra
from devkit.bus import tap
from devkit.processes import Supervisor, service_spec

pytestmark = pytest.mark.e2e

USERS, MESSAGES, REPLICAS = 200, 20, 3


@pytest.fixture
def amqp_url():
    """A vhost of its own: the 4,000 replies left for a notifier must not reach other tests' notifier."""
    with infra.rabbitmq_vhost("congress-ordering") as url:
        yield url


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

    sent: dict[str, list[str]] = defaultdict(list)
    async with tap(amqp_url, SendWhatsAppMessage.ROUTING_KEY) as sends:
        await publish_all(amqp_url, sent)
        total = USERS * MESSAGES
        replies: dict[str, list[str]] = defaultdict(list)
        for command in await sends.wait_for(total, timeout=240):
            replies[command["conversation_key"]].append(command["in_reply_to"])
    for _ in range(50):  # the log line comes right after the reply is published
        if sum(handled(replicas).values()) >= USERS * MESSAGES:
            break
        await asyncio.sleep(0.1)
    check(replies, sent, replicas)


def handled(replicas: Supervisor) -> dict[str, int]:
    return {c.spec.name: sum('"message.handled"' in line for line in c.lines) for c in replicas.children}


async def publish_all(amqp_url: str, sent: dict[str, list[str]]) -> None:
    broker = ServiceRuntime.build(ServiceSettings(amqp_url=amqp_url), name="test", version="0").broker
    await broker.connect()
    await declare_topology(broker)
    start = datetime(2027, 1, 10, 12, tzinfo=UTC)
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


def check(replies: dict[str, list[str]], sent: dict[str, list[str]], replicas: Supervisor) -> None:
    total = USERS * MESSAGES
    assert set(replies) == set(sent)
    out_of_order = [key for key in sent if replies[key] != sent[key]]
    example = out_of_order[0] if out_of_order else ""
    assert not out_of_order, f"{len(out_of_order)} out of order, e.g. {replies[example]} for {sent[example]}"
    counts = handled(replicas)
    print(f"messages handled per replica: {counts}")
    assert sum(counts.values()) == total
    assert sum(1 for count in counts.values() if count > 0) == REPLICAS  # all three did work
