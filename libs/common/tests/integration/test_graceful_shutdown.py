"""Shutdown (what uvicorn runs on SIGTERM) lets an in-flight message finish and be acked."""

import asyncio

import aio_pika
import pytest
from asgi_lifespan import LifespanManager

from common.contracts import MessageStatusChanged
from common.messaging import NOTIFIER_DELIVERY_STATUSES, publisher, subscriber
from common.service import ServiceRuntime, create_service_app
from common.settings import ServiceSettings
from devkit import factories, infra

pytestmark = pytest.mark.integration


async def test_in_flight_handler_finishes_before_the_service_stops():
    with infra.rabbitmq_vhost("congress-shutdown-test") as url:
        runtime = ServiceRuntime.build(ServiceSettings(amqp_url=url), name="test", version="0")
        broker = runtime.broker
        started, finished = asyncio.Event(), asyncio.Event()

        @subscriber(broker, NOTIFIER_DELIVERY_STATUSES)
        async def slow(msg: MessageStatusChanged) -> None:
            started.set()
            await asyncio.sleep(1.0)
            finished.set()

        app = create_service_app(runtime)
        async with LifespanManager(app, shutdown_timeout=30):
            await publisher(broker, MessageStatusChanged, timeout=5).publish(
                factories.message_status_changed()
            )
            await asyncio.wait_for(started.wait(), 10)
        # The lifespan has exited: the handler must have completed, and its message been acked.
        assert finished.is_set()
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            for name in (NOTIFIER_DELIVERY_STATUSES.name, NOTIFIER_DELIVERY_STATUSES.dead_letter_name):
                queue = await channel.get_queue(name, ensure=False)
                assert await queue.get(fail=False) is None, f"{name} is not empty"
