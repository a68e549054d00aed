"""On the real RabbitMQ: nothing a consumer fails on is lost — it waits in the dead-letter queue.

FastStream rejects without requeue when a handler raises; these tests prove our topology turns that
rejection into a dead-lettered message rather than a dropped one.
"""

import asyncio
import json

import aio_pika
import pytest

from common.contracts import MessageStatusChanged
from common.messaging import EXCHANGE, NOTIFIER_DELIVERY_STATUSES, declare_topology, publisher, subscriber
from devkit import factories

pytestmark = pytest.mark.integration


def message() -> MessageStatusChanged:
    return factories.message_status_changed()


async def dead_letters(
    url: str, expected: int, timeout: float = 10
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(NOTIFIER_DELIVERY_STATUSES.dead_letter_name, ensure=False)
        got: list[aio_pika.abc.AbstractIncomingMessage] = []
        async with asyncio.timeout(timeout):
            while len(got) < expected:
                incoming = await queue.get(fail=False)
                if incoming is None:
                    await asyncio.sleep(0.05)
                    continue
                await incoming.ack()
                got.append(incoming)
        return got


async def test_a_handler_that_raises_dead_letters_the_message(vhost_url, make_broker):
    broker = make_broker(vhost_url)
    attempts = 0

    @subscriber(broker, NOTIFIER_DELIVERY_STATUSES)
    async def failing(msg: MessageStatusChanged) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("handler bug")

    await broker.connect()
    await declare_topology(broker)
    await broker.start()
    try:
        sent = message()
        await publisher(broker, MessageStatusChanged, timeout=5).publish(
            sent, message_id=str(sent.message_id)
        )
        [dead] = await dead_letters(vhost_url, 1)
    finally:
        await broker.stop()
    assert attempts == 1  # rejected, not requeued in a hot loop
    assert json.loads(dead.body)["message_id"] == str(sent.message_id)
    death = dead.headers["x-death"][0]
    assert death["queue"] == NOTIFIER_DELIVERY_STATUSES.name
    assert death["reason"] == "rejected"


async def test_a_message_that_is_not_the_contract_is_dead_lettered_not_dropped(vhost_url, make_broker):
    broker = make_broker(vhost_url)

    @subscriber(broker, NOTIFIER_DELIVERY_STATUSES)
    async def handler(msg: MessageStatusChanged) -> None:
        raise AssertionError("never called with an invalid message")

    await broker.connect()
    await declare_topology(broker)
    await broker.start()
    try:
        await broker.publish(
            b'{"not": "a MessageStatusChanged"}',
            exchange=EXCHANGE,
            routing_key=MessageStatusChanged.ROUTING_KEY,
            persist=True,
        )
        [dead] = await dead_letters(vhost_url, 1)
    finally:
        await broker.stop()
    assert json.loads(dead.body) == {"not": "a MessageStatusChanged"}


async def test_published_before_any_consumer_ran_the_message_waits(vhost_url, make_broker):
    """Every service declares the whole topology, so early publishes are routable and kept."""
    broker = make_broker(vhost_url)
    await broker.connect()
    await declare_topology(broker)
    try:
        sent = message()
        await publisher(broker, MessageStatusChanged, timeout=5).publish(sent)
    finally:
        await broker.stop()
    connection = await aio_pika.connect(vhost_url)
    async with connection:
        queue = await (await connection.channel()).get_queue(NOTIFIER_DELIVERY_STATUSES.name, ensure=False)
        kept = await queue.get(timeout=5)
        assert json.loads(kept.body)["message_id"] == str(sent.message_id)
