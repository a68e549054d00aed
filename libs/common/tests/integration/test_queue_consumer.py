"""On the real RabbitMQ: a plain queue's lean consumer (``common.consumers.QueueConsumer``).

Handles up to ``prefetch`` messages at once, answers a request on its ``reply_to`` before acking
it, dead-letters what fails or is not the contract (never requeue-loops, never drops), and stops
without stranding a message: what it held goes back to the queue.
"""

import asyncio

import aio_pika
import pytest
from opentelemetry import trace

from common.consumers import QueueConsumer
from common.contracts import CheckIdentity, IdentityCheckReply
from common.messaging import EXCHANGE, REGISTRATION_CHECKS, declare_topology
from common.rpc import RpcClient
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import infra
from devkit.bus import take, waiting

pytestmark = pytest.mark.integration

QUEUE = REGISTRATION_CHECKS


def check(n: int) -> CheckIdentity:
    return CheckIdentity(event_id="e", conversation_key=f"meta:1:{n}", email=f"p{n}@example.com")


@pytest.fixture
async def broker():
    with infra.rabbitmq_vhost("congress-queue-consumer-test") as url:
        broker = ServiceRuntime.build(ServiceSettings(amqp_url=url), name="test", version="0").broker
        await broker.connect()
        await declare_topology(broker)
        await broker.start()
        try:
            yield broker
        finally:
            await broker.stop()


async def test_requests_are_handled_prefetch_at_a_time_and_each_answered_then_acked(broker):
    held, most = 0, 0
    release = asyncio.Event()

    async def on_check(query: CheckIdentity) -> IdentityCheckReply:
        nonlocal held, most
        held += 1
        most = max(most, held)
        if most >= 5:
            release.set()
        await release.wait()
        held -= 1
        n = int(query.conversation_key.rsplit(":", 1)[1])
        return IdentityCheckReply(taken=bool(n % 2), same_conversation=False)

    consumer = QueueConsumer(broker, QUEUE, on_check, prefetch=5)
    await consumer.start()
    try:
        rpc = RpcClient(broker, app_id="test", tracer=trace.get_tracer("test"))
        bodies = await asyncio.gather(*(rpc.request(check(n), timeout=10) for n in range(12)))
    finally:
        await consumer.stop()
    assert [IdentityCheckReply.model_validate_json(b).taken for b in bodies] == [
        bool(n % 2) for n in range(12)
    ]
    assert most == 5  # five at once, never more than the prefetch
    assert await waiting(broker, QUEUE.name) == 0  # all acked
    assert await waiting(broker, QUEUE.dead_letter_name) == 0


async def test_a_failing_handler_and_a_body_that_is_not_the_contract_are_dead_lettered(broker):
    async def on_check(query: CheckIdentity) -> IdentityCheckReply:
        raise ValueError("a bug")

    consumer = QueueConsumer(broker, QUEUE, on_check, prefetch=2)
    await consumer.start()
    try:
        channel = await broker._connection.channel()
        exchange = await channel.get_exchange(EXCHANGE.name, ensure=False)
        bad = aio_pika.Message(b'{"not": "a check"}', type=CheckIdentity.message_type())
        good = aio_pika.Message(check(1).model_dump_json().encode(), type=CheckIdentity.message_type())
        for message in (bad, good):
            await exchange.publish(message, routing_key=CheckIdentity.ROUTING_KEY)
        dead = [await take(broker, QUEUE.dead_letter_name) for _ in range(2)]
        await channel.close()
    finally:
        await consumer.stop()
    assert sorted(m.body for m in dead) == sorted([bad.body, good.body])
    assert await waiting(broker, QUEUE.name) == 0


async def test_stop_finishes_the_messages_in_hand_and_returns_the_rest(broker):
    started = asyncio.Event()
    handled: list[str] = []

    async def on_check(query: CheckIdentity) -> None:
        started.set()
        await asyncio.sleep(0.3)
        handled.append(query.conversation_key)

    consumer = QueueConsumer(broker, QUEUE, on_check, prefetch=2)
    await consumer.start()
    channel = await broker._connection.channel()
    exchange = await channel.get_exchange(EXCHANGE.name, ensure=False)
    for n in range(6):
        body = check(n).model_dump_json().encode()
        await exchange.publish(
            aio_pika.Message(body, type=CheckIdentity.message_type()), routing_key=QUEUE.contract.ROUTING_KEY
        )
    await channel.close()
    await asyncio.wait_for(started.wait(), 10)
    await consumer.stop()
    left = await waiting(broker, QUEUE.name)
    assert 1 <= len(handled) <= 2  # the ones in hand finished
    assert len(handled) + left == 6  # nothing stranded, nothing lost
    assert await waiting(broker, QUEUE.dead_letter_name) == 0


async def test_a_message_without_a_type_is_taken_as_the_queues_contract_and_another_type_is_not(broker):
    seen: list[str] = []

    async def on_check(query: CheckIdentity) -> None:
        seen.append(query.conversation_key)

    consumer = QueueConsumer(broker, QUEUE, on_check, prefetch=2)
    await consumer.start()
    try:
        channel = await broker._connection.channel()
        exchange = await channel.get_exchange(EXCHANGE.name, ensure=False)
        untyped = aio_pika.Message(check(1).model_dump_json().encode())
        other = aio_pika.Message(check(2).model_dump_json().encode(), type="registration.submit.v1")
        for message in (untyped, other):
            await exchange.publish(message, routing_key=QUEUE.contract.ROUTING_KEY)
        dead = await take(broker, QUEUE.dead_letter_name)
        await channel.close()
    finally:
        await consumer.stop()
    assert seen == ["meta:1:1"]
    assert dead.body == other.body


async def test_a_channel_closing_under_a_handler_does_not_cut_the_handler_short(broker):
    """aiormq cancels a delivery's task when its channel closes (a broker restart): the handler
    must still finish its work (a send must not stay claimed and unmade); the message comes back."""
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    async def on_check(query: CheckIdentity) -> None:
        started.set()
        await release.wait()
        finished.append(query.conversation_key)

    consumer = QueueConsumer(broker, QUEUE, on_check, prefetch=1)
    await consumer.start()
    channel = await broker._connection.channel()
    exchange = await channel.get_exchange(EXCHANGE.name, ensure=False)
    body = check(7).model_dump_json().encode()
    await exchange.publish(
        aio_pika.Message(body, type=CheckIdentity.message_type()), routing_key=QUEUE.contract.ROUTING_KEY
    )
    await channel.close()
    await asyncio.wait_for(started.wait(), 10)
    await consumer._channel.close()  # as a broker restart closes it: the delivery's task is cancelled
    release.set()
    await asyncio.sleep(0.2)
    await consumer.stop()
    assert finished == ["meta:1:7"]
    assert await waiting(broker, QUEUE.name) == 1  # unacked: back in the queue, redelivered later
