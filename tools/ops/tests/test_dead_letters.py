"""Against the real RabbitMQ: an operator sees why messages died, replays one to the queue it died
in, sets another aside with a note — and nothing is ever lost on the way."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from ops.__main__ import main
from ops.queues import DISCARDED

from common.messaging import NOTIFIER_DELIVERY_STATUSES, declare_topology
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import factories, infra

pytestmark = pytest.mark.integration
QUEUE, DLQ = NOTIFIER_DELIVERY_STATUSES.name, NOTIFIER_DELIVERY_STATUSES.dead_letter_name


@pytest.fixture
async def vhost():
    with infra.rabbitmq_vhost("congress-ops-test") as url:
        broker = ServiceRuntime.build(ServiceSettings(amqp_url=url), name="t", version="0").broker
        await broker.connect()
        await declare_topology(broker)
        await broker.stop()
        yield url


async def depth(url: str, name: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)


async def poison(url: str, count: int) -> list[str]:
    """Publish ``count`` sends and reject them as a failing consumer would (→ the DLQ)."""
    ids = []
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for _ in range(count):
            command = factories.send_whatsapp_message()
            ids.append(str(command.message_id))
            await channel.default_exchange.publish(
                aio_pika.Message(
                    command.model_dump_json().encode(), message_id=ids[-1], type=command.message_type()
                ),
                routing_key=QUEUE,
            )
        queue = await channel.declare_queue(QUEUE, passive=True)
        async with queue.iterator() as messages:
            rejected = 0
            async for message in messages:
                await message.reject(requeue=False)
                rejected += 1
                if rejected == count:
                    break
    return ids


async def test_show_replay_and_discard(vhost, capsys):
    first, second = await poison(vhost, 2)
    for _ in range(50):
        if await depth(vhost, DLQ) == 2:
            break
        await asyncio.sleep(0.1)
    assert await depth(vhost, DLQ) == 2

    with pytest.raises(SystemExit) as shown:
        await _run(["--amqp-url", vhost, "dlq", "show", DLQ])
    assert shown.value.code == 0
    out = capsys.readouterr().out
    assert first in out and "died in notifier.message.status_changed (rejected" in out
    assert await depth(vhost, DLQ) == 2  # looking takes nothing away

    with pytest.raises(SystemExit):
        await _run(["--amqp-url", vhost, "dlq", "replay", DLQ, "--id", first])
    assert await depth(vhost, QUEUE) == 1 and await depth(vhost, DLQ) == 1

    with pytest.raises(SystemExit):
        await _run(
            ["--amqp-url", vhost, "dlq", "discard", DLQ, "--all", "--note", "test number, not a person"]
        )
    assert await depth(vhost, DLQ) == 0 and await depth(vhost, DISCARDED) == 1
    connection = await aio_pika.connect(vhost)
    async with connection:
        kept = await (await connection.channel()).declare_queue(DISCARDED, passive=True)
        message = await kept.get()
        assert message.message_id == second
        assert message.headers["x-discard-note"] == "test number, not a person"


async def _run(argv: list[str]) -> None:
    await asyncio.to_thread(main, argv)  # the CLI runs its own event loop


async def test_queues_lists_the_topology_with_depths(vhost, capsys):
    with pytest.raises(SystemExit):
        await _run(["--amqp-url", vhost, "queues"])
    out = capsys.readouterr().out
    assert "conversation.inbox.00" in out and "notifier.inbox.dlq" in out and "(absent)" not in out
