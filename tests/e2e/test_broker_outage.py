"""The broker goes away and comes back: nothing accepted is lost, the services reconnect by themselves.

Stops the machine's RabbitMQ application (and always starts it again).
"""

import asyncio

import httpx
import pytest

from devkit import samples
from devkit.infra import rabbitmq_app

pytestmark = pytest.mark.e2e


async def post(system, body: bytes) -> httpx.Response:
    signature = samples.meta_signature(system.app_secret, body)
    async with httpx.AsyncClient(base_url=system.ingress_url, timeout=15) as client:
        return await client.post("/webhooks/meta", content=body, headers={"X-Hub-Signature-256": signature})


async def wait_ready(system, timeout: float = 60) -> None:
    async with asyncio.timeout(timeout), httpx.AsyncClient(timeout=2) as client:
        for child in system.supervisor.children:
            while True:
                try:
                    if (await client.get(child.spec.ready_url)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)


async def test_webhook_during_outage_is_refused_then_answered_once_after_recovery(system):
    body = samples.meta_text("oi", wamid="wamid.outage-1", wa_id="5511900000001")
    rabbitmq_app("stop_app")
    try:
        refused = await post(system, body)
        assert refused.status_code == 503  # Meta will retry it
        assert "Retry-After" in refused.headers
    finally:
        rabbitmq_app("start_app")
    await wait_ready(system)
    retried = await post(system, body)  # what Meta's retry does
    assert retried.status_code == 200
    assert retried.json()["published"] == 1
    [reply] = await system.graph.wait_for(1, timeout=30)
    assert reply.body["to"] == "5511900000001"
    await asyncio.sleep(1)
    assert len(system.graph.messages) == 1
