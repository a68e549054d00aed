"""One WhatsApp message all the way through the four services, over the real broker.

ingress (HTTP) → message.received → conversation (Redis) → whatsapp.send → notifier → Graph API.
"""

import asyncio
import json
import time

import httpx
import pytest
from redis.asyncio import Redis

from devkit import samples

pytestmark = pytest.mark.e2e


async def post_signed(system, body: bytes, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=system.ingress_url, timeout=10) as client:
        return await client.post(
            "/webhooks/meta",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": samples.meta_signature(system.app_secret, body),
                **headers,
            },
        )


async def test_signed_sample_gets_the_greeting_once_even_when_posted_twice(system, redis_url):
    body = samples.load("meta_text.json")  # the verbatim sample from webhook_samples.md
    async with Redis.from_url(redis_url) as redis:  # the sample's sender may have written before
        await redis.delete("conversation:session:meta:1122334455667:972987654321")
    started = time.perf_counter()
    first = await post_signed(system, body)
    assert first.status_code == 200, first.text
    assert first.json()["published"] == 1
    [reply] = await system.graph.wait_for(1, timeout=15)
    latency_ms = (time.perf_counter() - started) * 1000
    print(f"end-to-end latency of one message: {latency_ms:.1f} ms")

    assert reply.version.startswith("v")
    assert reply.phone_number_id == "1122334455667"
    assert reply.authorization == "Bearer test-access-token"
    assert reply.body["to"] == "972987654321"
    assert reply.body["messaging_product"] == "whatsapp"
    text = reply.text  # a list message: the greeting and the menu
    assert text.startswith("Olá, Test!")
    assert "Programação" in text

    again = await post_signed(system, body)
    assert again.status_code == 200
    assert again.json() == {"published": 0, "duplicates": 1, "ignored": 0, "parked": 0, "rate_limited": 0}
    await asyncio.sleep(2)  # time enough for a second reply to show up, if one were sent
    assert len(system.graph.messages) == 1


async def test_one_message_is_one_trace_across_the_services(system):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    body = samples.meta_text("oi", wamid="wamid.trace-check")
    r = await post_signed(system, body, traceparent=f"00-{trace_id}-00f067aa0ba902b7-01")
    assert r.status_code == 200
    [reply] = await system.graph.wait_for(1, timeout=15)
    assert reply.traceparent is not None
    assert reply.traceparent.split("-")[1] == trace_id

    def services_logging_the_trace() -> set[str]:
        return {
            json.loads(line)["service"]
            for name in ("ingress", "conversation", "notifier")
            for line in system.supervisor.logs(name)
            if line.startswith("{") and trace_id in line
        }

    for _ in range(50):  # the notifier logs right after the provider answered
        if services_logging_the_trace() == {"ingress", "conversation", "notifier"}:
            break
        await asyncio.sleep(0.1)
    assert services_logging_the_trace() == {"ingress", "conversation", "notifier"}


async def test_status_only_webhook_reaches_the_delivery_log_and_answers_nobody(system):
    body = samples.load("meta_status_sent.json")
    r = await post_signed(system, body)
    assert r.status_code == 200
    assert r.json()["published"] == 1  # a delivery status, not a message

    def logged() -> list[dict]:
        return [
            json.loads(line)
            for line in system.supervisor.logs("notifier")
            if '"delivery.status_changed"' in line
        ]

    for _ in range(50):
        if logged():
            break
        await asyncio.sleep(0.1)
    [entry] = logged()
    assert (entry["provider_message_id"], entry["status"]) == ("wamid.xyzxyz", "sent")
    await asyncio.sleep(1)
    assert system.graph.messages == []


async def test_signature_and_handshake_over_http(system):
    body = samples.meta_text("oi", wamid="wamid.sig-check")
    async with httpx.AsyncClient(base_url=system.ingress_url, timeout=10) as client:
        missing = await client.post("/webhooks/meta", content=body)
        wrong = await client.post(
            "/webhooks/meta", content=body, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}
        )
        tampered = await client.post(
            "/webhooks/meta",
            content=body.replace(b'"oi"', b'"oI"'),
            headers={"X-Hub-Signature-256": samples.meta_signature(system.app_secret, body)},
        )
        ok = await client.get(
            "/webhooks/meta",
            params={"hub.mode": "subscribe", "hub.verify_token": system.verify_token, "hub.challenge": "42"},
        )
        bad = await client.get(
            "/webhooks/meta",
            params={"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "42"},
        )
    assert (missing.status_code, wrong.status_code, tampered.status_code) == (401, 403, 403)
    assert (ok.status_code, ok.text) == (200, "42")
    assert bad.status_code == 403
    await asyncio.sleep(1)
    assert system.graph.messages == []


async def test_every_service_reports_health_readiness_and_metrics(system):
    async with httpx.AsyncClient(timeout=10) as client:
        for child in system.supervisor.children:
            base = child.spec.ready_url.removesuffix("/readyz")
            assert (await client.get(base + "/healthz")).json()["status"] == "ok"
            ready = (await client.get(base + "/readyz")).json()
            assert ready["status"] == "ready"
            assert ready["checks"]["broker"]["ok"] is True
            assert all(check["latency_ms"] >= 0 for check in ready["checks"].values())
            metrics = await client.get(base + "/metrics")
            assert metrics.status_code == 200
            assert "# TYPE" in metrics.text


async def test_traces_are_exported_over_otlp_as_one_trace(system):
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    body = samples.meta_text("oi", wamid="wamid.otlp-check")
    r = await post_signed(system, body, traceparent=f"00-{trace_id}-b7ad6b7169203331-01")
    assert r.status_code == 200
    await system.graph.wait_for(1, timeout=15)
    expected = {"ingress", "conversation", "notifier"}

    def roots() -> list[object]:
        spans = [s for s in system.traces.spans if s.trace_id == trace_id]
        ids = {s.span_id for s in spans}
        return [s for s in spans if s.parent_span_id not in ids]

    # Each service exports its batch every 0.2 s: a child can arrive before its parent.
    for _ in range(100):
        if system.traces.services_in_trace(trace_id) >= expected and len(roots()) == 1:
            break
        await asyncio.sleep(0.1)
    assert system.traces.services_in_trace(trace_id) >= expected
    assert len(roots()) == 1, f"every span hangs off the incoming webhook's trace: {roots()}"


async def test_business_app_echo_marks_the_conversation_and_is_never_answered(system):
    echo = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "smb_message_echoes", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1122334455667"},
            "message_echoes": [{"from": "15550001111", "to": "5511900000002", "id": "wamid.echo-1",
                                "timestamp": "1700000000", "type": "text", "text": {"body": "Oi! Aqui é a Joana."}}],
        }}]}],
    }  # fmt: skip
    r = await post_signed(system, json.dumps(echo).encode())
    assert r.json()["published"] == 1
    key = "meta:1122334455667:5511900000002"
    for _ in range(50):
        if any(
            key in line and "human.activity_recorded" in line
            for line in system.supervisor.logs("conversation")
        ):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("conversation did not record the human activity")
    await asyncio.sleep(1)
    assert system.graph.messages == []
