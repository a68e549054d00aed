"""The Meta webhook routes over HTTP, with fakes at the two seams (dedupe store, publisher)."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from common.contracts import Contract, MessageReceived, MessageStatusChanged, WebhookParked
from common.idempotency import InMemoryClaims
from common.service import ServiceApp
from devkit import samples
from ingress.admission import InMemoryAdmission
from ingress.gateways.meta import MetaGateway, signature
from ingress.gateways.meta.api import meta_router
from ingress.http_errors import install_error_handlers
from ingress.metrics import IngressMetrics
from ingress.service import Intake
from ingress.webhooks import HotWebhook

SECRET = "unit-secret"
TOKEN = "unit-token"


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[Contract] = []
        self.fail = False

    async def __call__(self, event: Contract) -> None:
        if self.fail:
            raise ConnectionError("broker went away")
        self.published.append(event)

    def of(self, contract: type[Contract]) -> list:
        return [e for e in self.published if isinstance(e, contract)]


def build_app(dedupe, publish, registry=None, *, hot: bool = False, rate_limiter=None) -> FastAPI:
    """The documented FastAPI route, or (``hot``) the same route served by ``HotWebhook`` first."""
    metrics = IngressMetrics(registry or CollectorRegistry())
    intake = Intake(admission=InMemoryAdmission(dedupe, rate_limiter), publish=publish, metrics=metrics)
    gateway = MetaGateway(app_secret=SECRET)
    hot_routes = {
        ("POST", "/webhooks/meta"): HotWebhook(
            gateway,
            intake=intake,
            max_body_bytes=4096,
            tracer=trace.get_tracer("test"),
            route="/webhooks/meta",
        )
    }
    app = ServiceApp(hot_routes=hot_routes if hot else None)
    app.include_router(meta_router(gateway=gateway, verify_token=TOKEN, intake=intake, max_body_bytes=4096))
    install_error_handlers(app)
    return app


@pytest.fixture(params=["route", "hot"])
def hot(request) -> bool:
    """Every test runs against the FastAPI route and against the hot route: same answers."""
    return request.param == "hot"


@pytest.fixture
def fakes():
    return InMemoryClaims(), FakePublisher()


@pytest.fixture
def registry():
    return CollectorRegistry()


@pytest.fixture
async def client(fakes, registry, hot):
    transport = httpx.ASGITransport(app=build_app(*fakes, registry, hot=hot))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


def signed(body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature-256": signature.sign(SECRET, body), "Content-Type": "application/json"}


async def test_handshake_echoes_challenge_as_plain_text(client):
    r = await client.get(
        "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": TOKEN, "hub.challenge": "1158201444"},
    )
    assert r.status_code == 200
    assert r.text == "1158201444"
    assert r.headers["content-type"].startswith("text/plain")


async def test_handshake_with_wrong_token_is_403(client):
    r = await client.get(
        "/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
    )
    assert r.status_code == 403


async def test_handshake_with_wrong_mode_or_missing_params_is_422_with_the_reason(client):
    r = await client.get("/webhooks/meta", params={"hub.mode": "unsubscribe", "hub.verify_token": TOKEN})
    assert r.status_code == 422
    problems = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert problems == {("query", "hub.mode"), ("query", "hub.challenge")}


async def test_signed_text_message_is_published_once(client, fakes):
    _, publish = fakes
    body = samples.load("meta_text.json")
    first = await client.post("/webhooks/meta", content=body, headers=signed(body))
    again = await client.post("/webhooks/meta", content=body, headers=signed(body))
    assert first.status_code == again.status_code == 200
    assert first.json() == {"published": 1, "duplicates": 0, "ignored": 0, "parked": 0, "rate_limited": 0}
    assert again.json()["duplicates"] == 1
    assert [m.text for m in publish.published] == ["Body Text"]


async def test_missing_signature_is_401_and_nothing_published(client, fakes):
    body = samples.load("meta_text.json")
    r = await client.post("/webhooks/meta", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    assert fakes[1].published == []


async def test_wrong_signature_is_403_and_nothing_published(client, fakes):
    body = samples.load("meta_text.json")
    r = await client.post("/webhooks/meta", content=body, headers={"X-Hub-Signature-256": "sha256=00"})
    assert r.status_code == 403
    assert fakes[1].published == []


async def test_status_only_webhook_publishes_a_delivery_status_and_no_message(client, fakes):
    body = samples.load("meta_status_sent.json")
    r = await client.post("/webhooks/meta", content=body, headers=signed(body))
    assert r.status_code == 200
    assert r.json()["published"] == 1
    assert fakes[1].of(MessageReceived) == []
    [status] = fakes[1].of(MessageStatusChanged)
    assert status.status.value == "sent"


async def test_body_that_is_not_json_is_400_with_reason(client):
    body = b"not json{"
    r = await client.post("/webhooks/meta", content=body, headers=signed(body))
    assert r.status_code == 400
    assert "JSON" in r.json()["detail"]


async def test_oversized_body_is_413_before_anything_else(client):
    body = b"{" + b" " * 5000 + b"}"
    r = await client.post("/webhooks/meta", content=body, headers=signed(body))
    assert r.status_code == 413


async def test_unconfirmed_publish_is_503_and_retry_is_not_a_duplicate(client, fakes):
    _, publish = fakes
    body = samples.meta_text("oi", wamid="wamid.retry")
    publish.fail = True
    r = await client.post("/webhooks/meta", content=body, headers=signed(body))
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    publish.fail = False
    r = await client.post("/webhooks/meta", content=body, headers=signed(body))
    assert r.json()["published"] == 1
    assert len(publish.published) == 1


async def test_a_retry_while_the_first_publish_waits_is_503_and_never_a_lost_duplicate(fakes, hot):
    """A provider retry that overtakes a slow confirm must not be answered 200: the first publish
    may still fail (a broker restart), and then nobody would publish the message."""
    dedupe, _ = fakes
    confirm = asyncio.Event()
    published: list[Contract] = []

    async def slow_then_failing(event: Contract) -> None:
        await confirm.wait()
        raise ConnectionError("the broker restarted before confirming")

    async def working(event: Contract) -> None:
        published.append(event)

    body = samples.meta_text("oi", wamid="wamid.overtaken")
    transport = httpx.ASGITransport(app=build_app(dedupe, slow_then_failing, hot=hot))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        first = asyncio.create_task(c.post("/webhooks/meta", content=body, headers=signed(body)))
        await asyncio.sleep(0.05)  # the first one holds the claim, waiting for its confirm
        retry = await c.post("/webhooks/meta", content=body, headers=signed(body))
        confirm.set()
        assert retry.status_code == 503 and "Retry-After" in retry.headers
        assert (await first).status_code == 503
    transport = httpx.ASGITransport(app=build_app(dedupe, working, hot=hot))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        again = await c.post("/webhooks/meta", content=body, headers=signed(body))
    assert again.json()["published"] == 1 and len(published) == 1


async def test_signed_json_of_unknown_shape_is_accepted_and_parked_with_the_reason(client, fakes, registry):
    body = '{"unexpected": "ação"}'.encode()
    r = await client.post("/webhooks/meta", content=body, headers=signed(body))
    assert r.status_code == 200  # so Meta stops retrying
    assert r.json()["parked"] == 1
    [parked] = fakes[1].published
    assert isinstance(parked, WebhookParked)
    assert parked.body == body.decode()
    assert "envelope" in parked.reason
    assert registry.get_sample_value("ingress_webhooks_parked_total", {"provider": "meta"}) == 1


async def test_unsigned_unknown_shape_is_rejected_not_parked(client, fakes):
    body = b'{"unexpected": true}'
    r = await client.post("/webhooks/meta", content=body, headers={"X-Hub-Signature-256": "sha256=00"})
    assert r.status_code == 403
    assert fakes[1].published == []


async def test_answers_are_counted_by_status(client, registry):
    body = samples.meta_text("oi", wamid="wamid.counted")
    await client.post("/webhooks/meta", content=body, headers=signed(body))
    await client.post("/webhooks/meta", content=body)
    assert registry.get_sample_value("ingress_webhooks_total", {"provider": "meta", "status": "200"}) == 1
    assert registry.get_sample_value("ingress_webhooks_total", {"provider": "meta", "status": "401"}) == 1
    labels = {"provider": "meta", "type": "message.received", "outcome": "published"}
    assert registry.get_sample_value("ingress_events_total", labels) == 1


class BrokenAfterClaim(InMemoryClaims):
    async def complete(self, key: str, result: str = "") -> None:
        raise ConnectionError("redis went away")

    async def release(self, key: str) -> None:
        raise ConnectionError("redis went away")


@pytest.mark.parametrize("publish_fails", [False, True])
async def test_dedupe_store_failing_after_the_claim_never_turns_into_a_500(publish_fails, hot):
    publish = FakePublisher()
    publish.fail = publish_fails
    app = build_app(BrokenAfterClaim(), publish, hot=hot)
    body = samples.meta_text("oi", wamid="wamid.store-down")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.post("/webhooks/meta", content=body, headers=signed(body))
    assert r.status_code == (503 if publish_fails else 200)


async def test_dedupe_store_down_before_the_claim_is_503_and_nothing_published(hot):
    class Down(InMemoryClaims):
        async def claim(self, key: str, *, take_over: bool = False):
            raise ConnectionError("redis refused")

    publish = FakePublisher()
    app = build_app(Down(), publish, hot=hot)
    body = samples.meta_text("oi", wamid="wamid.store-down-early")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.post("/webhooks/meta", content=body, headers=signed(body))
    assert r.status_code == 503
    assert publish.published == []


async def test_a_sender_over_the_rate_limit_is_cut_and_counted(hot):
    class OnlyTwo:
        def __init__(self) -> None:
            self.seen: dict[str, int] = {}

        async def allow(self, sender: str) -> bool:
            self.seen[sender] = self.seen.get(sender, 0) + 1
            return self.seen[sender] <= 2

    registry = CollectorRegistry()
    publish = FakePublisher()
    app = build_app(InMemoryClaims(), publish, registry, hot=hot, rate_limiter=OnlyTwo())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answers = []
        for i in range(4):
            body = samples.meta_text(f"spam {i}", wamid=f"wamid.flood-{i}")
            answers.append((await client.post("/webhooks/meta", content=body, headers=signed(body))).json())
        other = samples.meta_text("oi", wamid="wamid.other", wa_id="5511900000009")
        assert (await client.post("/webhooks/meta", content=other, headers=signed(other))).json()[
            "published"
        ] == 1
        retry = samples.meta_text("spam 3", wamid="wamid.flood-3")  # Meta re-delivers a cut message
        assert (await client.post("/webhooks/meta", content=retry, headers=signed(retry))).json()[
            "duplicates"
        ] == 1
    assert [a["published"] for a in answers] == [1, 1, 0, 0]
    assert [a["rate_limited"] for a in answers] == [0, 0, 1, 1]
    assert [m.text for m in publish.of(MessageReceived)] == ["spam 0", "spam 1", "oi"]
    assert registry.get_sample_value("ingress_rate_limited_total", {"provider": "meta"}) == 2
