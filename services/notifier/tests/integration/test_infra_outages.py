"""The notifier through outages of its own PostgreSQL, Redis and broker, cut by a TCP proxy.

The notifier runs in this process with its database or Redis URL pointed through
``devkit.tcp_proxy.TcpProxy``; ``down()`` resets every live connection and refuses new ones, as a
server that died would, without stopping the machine's shared servers. Afterwards every command
must have reached the Graph API stand-in exactly once, the delivery log must say ``sent`` for
each, and nothing may wait in a dead-letter queue.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

import aio_pika
import pytest
from database.engine import create_engine, create_sessionmaker
from redis.asyncio import Redis
from sqlalchemy import select

from common.contracts import SendWhatsAppMessage
from common.messaging import NOTIFIER_INBOX, NOTIFIER_SHARDS, retry_transient
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import factories, infra
from devkit.graph_standin import GraphStandin
from devkit.tcp_proxy import TcpProxy
from notifier.models import Delivery
from notifier.retry_queues import RetryTiers

pytestmark = pytest.mark.integration

CONVERSATIONS = 60
OUTAGE_S = 8.0  # longer than a shard lease (6 s): leases lapse during a Redis outage


def commands(count: int, tag: str) -> list[SendWhatsAppMessage]:
    return [
        factories.send_whatsapp_message(conversation_key=f"meta:{tag}:5564{n % CONVERSATIONS:09d}")
        for n in range(count)
    ]


async def wait_until_sent(database_url: str, ids: Sequence[object], timeout: float) -> dict[str, Delivery]:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    try:
        async with asyncio.timeout(timeout):
            while True:
                async with sessions() as session:
                    rows = {
                        str(r.id): r
                        for r in await session.scalars(select(Delivery).where(Delivery.id.in_(ids)))
                    }
                if len(rows) == len(ids) and all(r.status == "sent" for r in rows.values()):
                    return rows
                await asyncio.sleep(0.2)
    except TimeoutError:
        states = Counter(r.status for r in rows.values())
        raise AssertionError(f"not all sent after {timeout} s: {len(rows)} rows, {dict(states)}") from None
    finally:
        await engine.dispose()


def assert_each_sent_once(graph: GraphStandin, sent: Sequence[SendWhatsAppMessage]) -> None:
    received = Counter(m.body["biz_opaque_callback_data"] for m in graph.messages)
    twice = {k: n for k, n in received.items() if n > 1}
    assert not twice, f"sent more than once: {twice}"
    missing = [str(c.message_id) for c in sent if received[str(c.message_id)] != 1]
    assert not missing, f"{len(missing)} never reached the provider, e.g. {missing[:3]}"
    assert len(received) == len(sent)


async def dead_letters(amqp_url: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(
            NOTIFIER_INBOX.dead_letter_name, passive=True
        )
        return queue.declaration_result.message_count or 0


@pytest.mark.parametrize(
    "outage_wait_s",
    [
        pytest.param(30.0, id="waits-in-place"),
        pytest.param(1.0, id="waits-in-a-retry-tier"),
    ],
)
async def test_postgres_down_mid_load_every_command_sent_once_and_logged_sent(
    notifier_factory, graph, notifier_database_url, outage_wait_s
):
    graph.delay_s = 0.1  # sends in flight when the database goes away: their 'sent' write fails
    async with TcpProxy("127.0.0.1", 5432) as proxy:
        notifier = await notifier_factory(
            notifier_database_url=proxy.url(notifier_database_url), notifier_outage_wait_s=outage_wait_s
        )
        load = commands(240, "pg")
        for command in load:
            await notifier.publish(command)
        await graph.wait_for(40, timeout=30)
        graph.hold()  # at the provider now, answered only after the cut: their 'sent' write meets it
        await graph.wait_in_flight(timeout=10)
        in_flight = graph.attempts - len(graph.messages)
        await proxy.down()
        during = len(graph.messages)
        graph.release()
        await asyncio.sleep(OUTAGE_S)
        # Nothing begins without the log: at most the one send per shard that had begun already.
        assert len(graph.messages) - during <= NOTIFIER_SHARDS
        await proxy.up()
        rows = await wait_until_sent(notifier_database_url, [c.message_id for c in load], timeout=90)
    print(f"cut with {in_flight} sends in flight after {during} sent; {proxy.connections} connections")
    assert in_flight > 0  # the cut did land between a provider's answer and its 'sent'
    assert_each_sent_once(graph, load)
    assert all(row.attempts == 1 for row in rows.values())  # the outage cost no provider attempt
    assert await dead_letters(notifier.amqp_url) == 0


async def test_redis_down_mid_load_sends_go_on_and_the_shards_are_consumed_again(
    notifier_factory, graph, redis_url, notifier_database_url
):
    graph.delay_s = 0.01
    async with TcpProxy("127.0.0.1", 6379) as proxy:
        notifier = await notifier_factory(
            redis_url=proxy.url(redis_url),
            rate_limit_business_per_s=80,  # the limits live in Redis: on, as in production
            rate_limit_recipient_per_minute=60,
        )
        before = commands(200, "redis-before")
        for command in before:
            await notifier.publish(command)
        await graph.wait_for(20, timeout=30)
        await proxy.down()
        at_cut = len(graph.messages)
        during = commands(60, "redis-during")
        for command in during:
            await notifier.publish(command)
        await asyncio.sleep(OUTAGE_S)
        sent_while_down = len(graph.messages) - at_cut
        await proxy.up()
        await asyncio.sleep(4)  # two lease rounds: lapsed leases taken again
        after = commands(60, "redis-after")
        for command in after:
            await notifier.publish(command)
        load = [*before, *during, *after]
        await wait_until_sent(notifier_database_url, [c.message_id for c in load], timeout=90)
        client = Redis.from_url(redis_url, decode_responses=True)
        try:
            holders = {
                await client.get(f"shards:{NOTIFIER_INBOX.name}:lease:{shard}")
                for shard in range(NOTIFIER_SHARDS)
            }
        finally:
            await client.aclose()
    print(f"{sent_while_down} sent while Redis was down; lease holders after: {holders}")
    assert sent_while_down > 0  # the rate limits were lifted, not waited on
    assert len(holders) == 1 and None not in holders  # this replica holds every shard again
    assert_each_sent_once(graph, load)
    assert await dead_letters(notifier.amqp_url) == 0


async def test_a_retry_tier_publish_goes_through_a_broker_reconnect():
    """A send that failed is re-published to its tier while the broker connection is cut: the
    publish waits for the reconnect (``retry_transient``) instead of failing the handler."""
    with infra.rabbitmq_vhost("congress-notifier-tiers") as amqp_url:
        async with TcpProxy("127.0.0.1", 5672) as proxy:
            settings = ServiceSettings(amqp_url=proxy.url(amqp_url))
            broker = ServiceRuntime.build(settings, name="tiers-test", version="0").broker
            await broker.connect()
            direct = await aio_pika.connect(amqp_url)
            try:
                channel = await direct.channel()
                target = await channel.declare_queue("tiers-test.target", durable=True)
                source = await channel.declare_queue("tiers-test.source", exclusive=True)
                tiers = RetryTiers((0.5,), jitter=0)
                await tiers.declare(broker, [(target.name, False)])
                await channel.default_exchange.publish(
                    aio_pika.Message(b'{"x": 1}', message_id="m-1", type="test"), routing_key=source.name
                )
                incoming = await source.get(timeout=5)
                await proxy.down()
                schedule = asyncio.create_task(
                    retry_transient(tiers.schedule)(
                        broker, incoming, target=target.name, delay_s=0.5, attempt=1
                    )
                )
                await asyncio.sleep(3)
                assert not schedule.done(), schedule.exception()  # waiting for the broker, not failed
                await proxy.up()
                await asyncio.wait_for(schedule, 60)
                async with asyncio.timeout(15):
                    while (back := await target.get(fail=False)) is None:  # noqa: ASYNC110 (polling)
                        await asyncio.sleep(0.1)
                assert back.message_id == "m-1" and back.body == b'{"x": 1}'
                assert back.headers["x-retry-attempt"] == 1
                assert proxy.connections >= 2  # it did reconnect through the proxy
            finally:
                await broker.stop()
                await direct.close()
