"""On the real RabbitMQ: a shard's lean consumer keeps what a FastStream subscriber guaranteed.

Ack only after the handler's work, dead-letter (never requeue-loop, never drop) what fails or is not
the contract, continue the producer's trace, hand the delivery to the handler, and stop without
stranding the next message.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from faststream.rabbit import RabbitBroker
from opentelemetry import trace
from prometheus_client import CollectorRegistry
from redis.exceptions import ConnectionError as RedisConnectionError

from common.consumers import incoming_message
from common.contracts import HumanActivityDetected, MessageReceived
from common.messaging import EXCHANGE, PARTITION_HEADER, ConfirmedPublisher, ShardedInbox, declare_topology
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from common.sharding import ShardConsumers
from devkit import factories, infra
from devkit.bus import take, waiting
from devkit.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

# One shard: every message lands in it, whatever its key.
INBOX = ShardedInbox("shardtest", (MessageReceived, HumanActivityDetected), 1)


@pytest.fixture
async def broker():
    with infra.rabbitmq_vhost("congress-shard-test") as url:
        broker = ServiceRuntime.build(ServiceSettings(amqp_url=url), name="test", version="0").broker
        await broker.connect()
        await declare_topology(broker)
        await INBOX.declare(broker)
        try:
            yield broker
        finally:
            await broker.stop()


@contextlib.asynccontextmanager
async def broker_behind_a_proxy(vhost_prefix: str) -> AsyncIterator[tuple[RabbitBroker, TcpProxy]]:
    """A connected broker whose connection goes through a proxy the test can cut (a restart, as
    the consumer sees it)."""
    with infra.rabbitmq_vhost(vhost_prefix) as url:
        upstream = urlsplit(url)
        async with TcpProxy(upstream.hostname or "127.0.0.1", upstream.port or 5672) as proxy:
            settings = ServiceSettings(amqp_url=proxy.url(url))
            broker = ServiceRuntime.build(settings, name="test", version="0").broker
            await broker.connect()
            try:
                await declare_topology(broker)
                await INBOX.declare(broker)
                yield broker, proxy
            finally:
                await broker.stop()


def confirmed(broker) -> ConfirmedPublisher:
    return ConfirmedPublisher(broker, app_id="test", timeout=5, tracer=trace.get_tracer("test"))


async def publish_until_dead_lettered(
    broker, consumers: ShardConsumers
) -> tuple[MessageReceived, AbstractIncomingMessage]:
    """Consume shard 0, publish one message and take it from the dead-letter queue."""
    await consumers.start(0)
    try:
        sent = factories.message_received()
        await confirmed(broker).publish(sent)
        return sent, await take(broker, INBOX.dead_letter_name)
    finally:
        await consumers.stop(0)


async def test_handled_then_acked_with_the_trace_and_delivery_of_the_producer(broker):
    seen: list[tuple[str, int, str | None]] = []
    done = asyncio.Event()

    async def on_message(message: MessageReceived) -> None:
        context = trace.get_current_span().get_span_context()
        delivery = incoming_message()
        assert delivery is not None
        seen.append((message.text or "", context.trace_id, delivery.message_id))
        done.set()

    registry = CollectorRegistry()
    consumers = ShardConsumers(broker, INBOX, {MessageReceived: on_message})
    consumers.instrument(registry, "test")
    await consumers.start(0)
    sent = factories.message_received(text="oi")
    with trace.get_tracer("test").start_as_current_span("webhook") as producer:
        await confirmed(broker).publish(sent)
    await asyncio.wait_for(done.wait(), 10)
    await consumers.stop(0)
    assert seen == [("oi", producer.get_span_context().trace_id, str(sent.message_id))]
    assert incoming_message() is None  # only inside a handler
    assert await waiting(broker, INBOX.shard_name(0)) == 0  # acked
    assert await waiting(broker, INBOX.dead_letter_name) == 0
    handler = f"{EXCHANGE.name}.{MessageReceived.ROUTING_KEY}"
    labels = {"app_name": "test", "broker": "rabbitmq", "handler": handler, "status": "acked"}
    assert registry.get_sample_value("faststream_received_processed_messages_total", labels) == 1


async def test_a_handler_that_raises_dead_letters_the_message_once(broker):
    attempts = 0

    async def failing(message: MessageReceived) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("handler bug")

    registry = CollectorRegistry()
    consumers = ShardConsumers(broker, INBOX, {MessageReceived: failing})
    consumers.instrument(registry, "test")
    sent, dead = await publish_until_dead_lettered(broker, consumers)
    assert attempts == 1  # rejected, not requeued in a hot loop
    assert json.loads(dead.body)["message_id"] == str(sent.message_id)
    death = dead.headers["x-death"][0]
    assert (death["queue"], death["reason"]) == (INBOX.shard_name(0), "rejected")
    handler = f"{EXCHANGE.name}.{MessageReceived.ROUTING_KEY}"
    labels = {"app_name": "test", "broker": "rabbitmq", "handler": handler}
    assert (
        registry.get_sample_value(
            "faststream_received_processed_messages_total", {**labels, "status": "rejected"}
        )
        == 1
    )
    assert (
        registry.get_sample_value(
            "faststream_received_processed_messages_exceptions_total",
            {**labels, "exception_type": "RuntimeError"},
        )
        == 1
    )


async def test_an_outage_met_by_the_handler_is_waited_out_in_place_not_dead_lettered(broker):
    attempts = 0
    handled = asyncio.Event()

    async def flaky(message: MessageReceived) -> None:  # Redis restarting, then back
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        handled.set()

    consumers = ShardConsumers(broker, INBOX, {MessageReceived: flaky})
    await consumers.start(0)
    try:
        await confirmed(broker).publish(factories.message_received())
        await asyncio.wait_for(handled.wait(), 10)
        await asyncio.sleep(0.3)  # the ack
    finally:
        await consumers.stop(0)
    assert attempts == 3
    assert await waiting(broker, INBOX.dead_letter_name) == 0
    assert await waiting(broker, INBOX.shard_name(0)) == 0  # acked, not back in the queue


async def test_an_outage_longer_than_the_wait_dead_letters_the_message(broker):
    async def down(message: MessageReceived) -> None:
        raise RedisConnectionError("Connection refused.")

    consumers = ShardConsumers(broker, INBOX, {MessageReceived: down}, outage_wait_s=0.5)
    sent, dead = await publish_until_dead_lettered(broker, consumers)
    assert json.loads(dead.body)["message_id"] == str(sent.message_id)


@pytest.mark.parametrize(
    ("body", "type_"),
    [
        (b'{"not": "a MessageReceived"}', MessageReceived.message_type()),  # not the contract
        (b"not json", MessageReceived.message_type()),
        (b"{}", "something.else.v1"),  # a type the inbox has no handler for
    ],
)
async def test_what_is_not_a_known_contract_is_dead_lettered_not_dropped(broker, body, type_):
    async def handler(message: MessageReceived) -> None:
        raise AssertionError("never called with an invalid message")

    consumers = ShardConsumers(broker, INBOX, {MessageReceived: handler})
    await consumers.start(0)
    try:
        exchange = await broker.declare_exchange(EXCHANGE)
        await exchange.publish(
            aio_pika.Message(body, type=type_, headers={PARTITION_HEADER: "k"}, delivery_mode=2),
            routing_key=MessageReceived.ROUTING_KEY,
        )
        dead = await take(broker, INBOX.dead_letter_name)
    finally:
        await consumers.stop(0)
    assert dead.body == body


async def test_stop_finishes_the_message_in_hand_and_strands_none(broker):
    """Stop while a message is in hand and the next waits: the first is handled and acked, the next
    stays in the shard for whoever takes it over (not delivered here, not left unacked)."""
    handled: list[str] = []
    in_hand, release = asyncio.Event(), asyncio.Event()

    async def slow(message: MessageReceived) -> None:
        in_hand.set()
        await release.wait()
        handled.append(message.text or "")

    consumers = ShardConsumers(broker, INBOX, {MessageReceived: slow})
    await consumers.start(0)
    publish = confirmed(broker)
    await publish.publish(factories.message_received(text="first"))
    await publish.publish(factories.message_received(text="second"))
    await asyncio.wait_for(in_hand.wait(), 10)
    stopping = asyncio.create_task(consumers.stop(0))
    await asyncio.sleep(0.3)
    assert not stopping.done()  # waits for the message in hand
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert handled == ["first"]
    assert consumers.running == set()
    assert await waiting(broker, INBOX.shard_name(0)) == 1  # ready, not unacked on a live channel
    taken_over = asyncio.Event()

    async def next_replica(message: MessageReceived) -> None:
        handled.append(message.text or "")
        taken_over.set()

    successor = ShardConsumers(broker, INBOX, {MessageReceived: next_replica})
    await successor.start(0)
    try:
        await asyncio.wait_for(taken_over.wait(), 10)
    finally:
        await successor.stop(0)
    assert handled == ["first", "second"]
    assert await waiting(broker, INBOX.dead_letter_name) == 0


async def test_a_shard_consumes_again_after_the_connection_to_the_broker_is_cut():
    """A broker restart, as a consumer sees it: its connection reset. The robust channel comes back
    with its prefetch and its consumer, without the lease loop starting the shard again."""
    got: list[str] = []
    arrived = asyncio.Event()

    async def on_message(message: MessageReceived) -> None:
        got.append(message.text or "")
        arrived.set()

    async with broker_behind_a_proxy("congress-shard-reconnect") as (broker, proxy):
        consumers = ShardConsumers(broker, INBOX, {MessageReceived: on_message})
        try:
            await consumers.start(0)
            await proxy.down()
            await asyncio.sleep(1)
            await proxy.up()
            publish = confirmed(broker)
            async with asyncio.timeout(30):
                while True:  # the publish channel is restored too; retry until it is
                    try:
                        await publish.publish(factories.message_received(text="after"))
                        break
                    except Exception:
                        await asyncio.sleep(0.5)
                await arrived.wait()
            assert got == ["after"]
            assert consumers.running == {0}
        finally:
            await consumers.stop_all()


async def test_a_redelivery_after_a_reconnection_waits_for_the_handler_still_running():
    """A broker restart cuts the channel while a handler runs: it finishes (shielded), the message
    is redelivered on the restored channel, and that second run starts only after the first
    ended — one shard's messages never overlap (a stale session saved last)."""
    running, overlapped, runs = 0, False, 0
    started, release, second_done = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow(message: MessageReceived) -> None:
        nonlocal running, overlapped, runs
        running += 1
        runs += 1
        overlapped |= running > 1
        try:
            if runs == 1:
                started.set()
                await release.wait()
            else:
                second_done.set()
        finally:
            running -= 1

    async with broker_behind_a_proxy("congress-shard-redelivery") as (broker, proxy):
        consumers = ShardConsumers(broker, INBOX, {MessageReceived: slow})
        try:
            await consumers.start(0)
            await confirmed(broker).publish(factories.message_received(text="once"))
            await asyncio.wait_for(started.wait(), 10)
            await proxy.down()  # the delivery's channel is gone; its handler goes on
            await asyncio.sleep(0.5)
            await proxy.up()
            # The restored consumer gets the message again (unacked on the cut channel) while
            # the first run is still held: give it time to start a second run, if it would.
            await asyncio.sleep(8)
            assert runs == 1, "the redelivery ran beside the handler still in hand"
            release.set()
            await asyncio.wait_for(second_done.wait(), 30)
        finally:
            release.set()
            await consumers.stop_all()
    assert runs == 2 and not overlapped
