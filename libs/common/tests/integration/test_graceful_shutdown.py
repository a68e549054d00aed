"""Shutdown (what uvicorn runs on SIGTERM) lets an in-flight message finish and be acked."""

import asyncio
from datetime import UTC, datetime

import aio_pika
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client import CollectorRegistry

from common.contracts import AddressKind, MessageKind, MessageReceived, Provider, ReplyAddress
from common.messaging import CONVERSATION_MESSAGES, create_broker, publisher, subscriber
from common.service import ServiceRuntime, create_service_app
from common.settings import ServiceSettings
from common.telemetry import setup_tracing
from devkit import infra

pytestmark = pytest.mark.integration


async def test_in_flight_handler_finishes_before_the_service_stops():
    with infra.rabbitmq_vhost("congress-shutdown-test") as url:
        tracer = setup_tracing("test")
        registry = CollectorRegistry()
        broker = create_broker(
            ServiceSettings(amqp_url=url), service="test", tracer_provider=tracer, registry=registry
        )
        started, finished = asyncio.Event(), asyncio.Event()

        @subscriber(broker, CONVERSATION_MESSAGES)
        async def slow(msg: MessageReceived) -> None:
            started.set()
            await asyncio.sleep(1.0)
            finished.set()

        app = create_service_app(
            ServiceRuntime(
                name="test",
                version="0",
                broker=broker,
                registry=registry,
                tracer_provider=tracer,
                readiness_timeout_s=1,
            )
        )
        async with LifespanManager(app, shutdown_timeout=30):
            await publisher(broker, MessageReceived, timeout=5).publish(
                MessageReceived(
                    provider=Provider.META,
                    provider_message_id="wamid.slow",
                    business_id="biz",
                    conversation_key="meta:biz:1",
                    reply_to=ReplyAddress(kind=AddressKind.WA_ID, id="1"),
                    sent_at=datetime.now(UTC),
                    kind=MessageKind.TEXT,
                )
            )
            await asyncio.wait_for(started.wait(), 10)
        # The lifespan has exited: the handler must have completed, and its message been acked.
        assert finished.is_set()
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            for name in (CONVERSATION_MESSAGES.name, CONVERSATION_MESSAGES.dead_letter_name):
                queue = await channel.get_queue(name, ensure=False)
                assert await queue.get(fail=False) is None, f"{name} is not empty"
