"""Property tests: random and mutated payloads into every adapter — no exception escapes, and over
HTTP a correctly authenticated body never gets a 5xx."""

import json

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from devkit import samples
from ingress.admission import InMemoryAdmission
from ingress.gateways.base import Delivery
from ingress.gateways.evolution import EvolutionGateway
from ingress.gateways.meta import MetaGateway
from ingress.gateways.whaticket import WhaticketGateway
from ingress.gateways.zapi import ZapiGateway
from ingress.http_errors import install_error_handlers
from ingress.metrics import IngressMetrics
from ingress.service import Intake
from ingress.webhooks import gateway_router

GATEWAYS = [
    MetaGateway(app_secret="s"),
    EvolutionGateway(token="t"),
    ZapiGateway(token="t"),
    WhaticketGateway(secret="s", clock=lambda: 1_700_000_000.0),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)

SEEDS = [
    json.loads(samples.load("meta_text.json")),
    json.loads(samples.load("meta_status_sent.json")),
    {"event": "messages.upsert", "instance": "i", "data": {"key": {"remoteJid": "1@lid", "fromMe": False, "id": "x"},
                                                            "message": {"conversation": "oi"}, "messageTimestamp": 1}},
    {"type": "ReceivedCallback", "instanceId": "i", "messageId": "m", "phone": "5511988888888", "text": {"message": "oi"}},
    {"message": {"conversation": "olá"}, "number": "5511999999999"},
]  # fmt: skip


def mutate(value, data):
    """Replace one random node of ``value`` with random JSON."""
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        return {**value, key: mutate(value[key], data)}
    if isinstance(value, list) and value and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(value) - 1))
        return [*value[:i], mutate(value[i], data), *value[i + 1 :]]
    return data.draw(json_values)


@pytest.mark.parametrize("gateway", GATEWAYS, ids=lambda g: g.provider.value)
@given(payload=json_values)
@settings(deadline=None)
def test_random_json_never_raises(gateway, payload):
    gateway.normalise(payload, Delivery(headers={"X-Timestamp": "1"}, body=b"{}"))


@pytest.mark.parametrize("gateway", GATEWAYS, ids=lambda g: g.provider.value)
@given(data=st.data())
@settings(deadline=None)
def test_mutated_real_payloads_never_raise(gateway, data):
    payload = mutate(data.draw(st.sampled_from(SEEDS)), data)
    result = gateway.normalise(payload, Delivery(headers={"X-Timestamp": "1"}, body=b"{}"))
    for event in result.events:  # what comes out is a valid contract that survives the bus
        assert type(event).model_validate_json(event.model_dump_json()) == event


class Publisher:
    async def __call__(self, event) -> None:
        return None


def signed_headers(gateway, body: bytes) -> dict[str, str]:
    if isinstance(gateway, MetaGateway):
        return {"X-Hub-Signature-256": samples.meta_signature("s", body)}
    if isinstance(gateway, WhaticketGateway):
        from ingress.gateways.whaticket import sign

        return {"X-Timestamp": "1700000000", "X-Signature": sign("s", "1700000000", body)}
    return {"X-Webhook-Token": "t"}


@pytest.mark.parametrize("gateway", GATEWAYS, ids=lambda g: g.provider.value)
@given(body=st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)))
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_authenticated_bodies_never_get_a_5xx(gateway, body):
    intake = Intake(
        admission=InMemoryAdmission(), publish=Publisher(), metrics=IngressMetrics(CollectorRegistry())
    )
    app = FastAPI()
    app.include_router(gateway_router(gateway, intake=intake, max_body_bytes=4096, summary="t"))
    install_error_handlers(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.post(
            f"/webhooks/{gateway.provider.value}", content=body, headers=signed_headers(gateway, body)
        )
    assert r.status_code in (200, 400), r.text


async def test_an_adapter_bug_parks_the_body_instead_of_a_500():
    class Buggy(ZapiGateway):
        def normalise(self, payload, delivery):
            raise RuntimeError("adapter bug")

    published = []

    async def publish(event) -> None:
        published.append(event)

    intake = Intake(
        admission=InMemoryAdmission(), publish=publish, metrics=IngressMetrics(CollectorRegistry())
    )
    app = FastAPI()
    app.include_router(gateway_router(Buggy(token="t"), intake=intake, max_body_bytes=4096, summary="t"))
    install_error_handlers(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.post(
            "/webhooks/zapi", content=b'{"type": "ReceivedCallback"}', headers={"X-Webhook-Token": "t"}
        )
    assert r.status_code == 200
    assert r.json()["parked"] == 1
    [parked] = published
    assert "adapter bug" in parked.reason
