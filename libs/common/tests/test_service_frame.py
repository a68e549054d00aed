"""The shared HTTP frame: readiness reports failing dependencies; no broker, no start."""

import asyncio
import gc

import httpx
import pytest
from aiormq.exceptions import AMQPConnectionError
from asgi_lifespan import LifespanManager

from common.service import ServiceRuntime, create_service_app
from common.settings import ServiceSettings


def runtime(amqp_url: str = "amqp://guest:guest@127.0.0.1:1/", **checks) -> ServiceRuntime:
    built = ServiceRuntime.build(
        ServiceSettings(amqp_url=amqp_url, readiness_timeout_s=0.5), name="test", version="1.2.3"
    )
    built.checks.update(checks)
    return built


async def get(app, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get(path)


async def test_not_ready_when_a_dependency_fails_or_hangs_with_the_reason():
    async def cache_down() -> None:
        raise ConnectionError("redis refused")

    async def database_hangs() -> None:
        await asyncio.sleep(5)

    app = create_service_app(runtime(cache=cache_down, database=database_hangs))
    r = await get(app, "/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["broker"]["ok"] is False  # never connected
    assert "redis refused" in body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["error"] == "TimeoutError"
    assert body["checks"]["database"]["latency_ms"] < 2000


async def test_alive_even_when_not_ready():
    r = await get(create_service_app(runtime()), "/healthz")
    assert r.json() == {"status": "ok", "service": "test", "version": "1.2.3"}


async def test_metrics_are_prometheus_text():
    r = await get(create_service_app(runtime()), "/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")


@pytest.mark.integration
async def test_refuses_to_start_when_the_broker_is_unreachable():
    app = create_service_app(runtime("amqp://guest:guest@127.0.0.1:1/"))
    with pytest.raises((AMQPConnectionError, ConnectionError, OSError)):
        async with LifespanManager(app, startup_timeout=30):
            pass
    # aio-pika leaves the failed connection to its finaliser, which schedules its close on the
    # running loop: collect it here, while this test's loop runs, not in whichever test is next.
    gc.collect()
    await asyncio.sleep(0.1)
