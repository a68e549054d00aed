"""A notifier app in this process on the real broker, database and Redis, with stand-ins around it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from database.engine import create_engine, create_sessionmaker
from faststream.rabbit import RabbitBroker

from common.contracts import Contract
from common.messaging import EXCHANGE, publish_headers
from devkit import gateway_standin, infra
from notifier.app import create_app
from notifier.config import NotifierSettings
from notifier.delivery_log import DeliveryLog
from notifier.models import Delivery

FAST_RETRIES = "0.3,0.3,0.3,0.3,0.3"


@dataclass
class RunningNotifier:
    app: Any
    broker: RabbitBroker
    log: DeliveryLog
    amqp_url: str

    async def publish(self, message: Contract) -> None:
        await self.broker.publish(
            message,
            exchange=EXCHANGE,
            routing_key=message.ROUTING_KEY,
            message_type=message.message_type(),
            message_id=str(message.message_id),
            headers=publish_headers(message),
            persist=True,
        )

    async def row(
        self, id: uuid.UUID, until: Callable[[Delivery], bool] = lambda _: True, timeout: float = 15
    ) -> Delivery:
        async with asyncio.timeout(timeout):
            while True:
                row = await self.log.get(id)
                if row is not None and until(row):
                    return row
                await asyncio.sleep(0.05)


@pytest_asyncio.fixture
async def notifier_factory(
    redis_url, notifier_database_url, graph_server, gateways_server
) -> AsyncIterator[Callable[..., Any]]:
    engine = create_engine(notifier_database_url)
    log = DeliveryLog(create_sessionmaker(engine))
    stack: list[Any] = []

    async def start(**overrides: Any) -> RunningNotifier:
        vhost = infra.rabbitmq_vhost("congress-notifier-test")
        url = vhost.__enter__()
        stack.append(vhost)
        fields: dict[str, Any] = {
            "environment": "test",
            "amqp_url": url,
            "redis_url": redis_url,
            "notifier_database_url": notifier_database_url,
            "meta_graph_url": graph_server.url,
            "meta_access_token": "test-access-token",
            "notifier_retry_delays_s": FAST_RETRIES,
            "notifier_whatsapp_retry_delays_s": FAST_RETRIES,
            "evolution_api_url": gateways_server.url,
            "evolution_api_key": gateway_standin.EVOLUTION_API_KEY,
            "zapi_api_url": gateways_server.url,
            "zapi_instance_token": gateway_standin.ZAPI_INSTANCE_TOKEN,
            "zapi_client_token": gateway_standin.ZAPI_CLIENT_TOKEN,
            "whaticket_api_url": gateways_server.url,
            "whaticket_api_token": gateway_standin.WHATICKET_TOKEN,
        } | overrides
        app = create_app(NotifierSettings(_env_file=None, **fields))
        manager = LifespanManager(app, startup_timeout=30, shutdown_timeout=30)
        await manager.__aenter__()
        stack.append(manager)
        running = RunningNotifier(app, app.state.runtime.broker, log, url)
        await _wait_for_shards(app)
        return running

    yield start
    for item in reversed(stack):
        if isinstance(item, LifespanManager):
            await item.__aexit__(None, None, None)
        else:
            item.__exit__(None, None, None)
    await engine.dispose()


async def _wait_for_shards(app: Any) -> None:
    """The leases start the shard consumers right after start-up; wait until all run."""
    await asyncio.sleep(0.3)


@pytest.fixture
def graph(graph_server):
    graph_server.standin.reset()
    return graph_server.standin
