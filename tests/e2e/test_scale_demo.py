"""Replicas come and go under load and nobody notices: 2 ingress, 3 conversation and 2 notifier
replicas (plus registration) take signed webhooks from 60 people; mid-run one replica of each is
stopped with SIGTERM and a new one started. Every message is answered exactly once, and every
person's answers arrive in the order of their messages. `make scale-demo` prints the figures."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web

from common.contracts import SendWhatsAppMessage
from devkit import infra, samples
from devkit.graph_standin import GraphStandin
from devkit.processes import Spec, Supervisor, service_spec

pytestmark = pytest.mark.e2e

USERS, MESSAGES = 60, 8
TEXTS = (
    "oi",
    "quanto custa?",
    "onde vai ser?",
    "menu",
    "qual a programação?",
    "obrigado",
    "tem certificado?",
    "oi",
)
SECRET = "scale-secret"


def spec(service: str, name: str, env: dict[str, str]) -> Spec:
    return replace(service_spec(service, infra.free_port(), env), name=name)


@pytest.fixture
async def graph():
    standin = GraphStandin()
    runner = web.AppRunner(standin.app())
    await runner.setup()
    port = infra.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield standin, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_replicas_stop_and_start_under_load_without_loss_duplicates_or_reordering(
    graph, database_url, notifier_database_url, redis_url
):
    standin, graph_url = graph
    with infra.rabbitmq_vhost("congress-scale") as amqp_url:
        env = {
            "ENVIRONMENT": "test",
            "AMQP_URL": amqp_url,
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url,
            "NOTIFIER_DATABASE_URL": notifier_database_url,
            "RATE_LIMIT_RECIPIENT_PER_MINUTE": "0",
            "META_APP_SECRET": SECRET,
            "META_ACCESS_TOKEN": "scale-token",
            "META_GRAPH_URL": graph_url,
            "RATE_LIMIT_BURST": "0",
            "LOG_LEVEL": "INFO",
        }
        specs = [spec("ingress", f"ingress-{n}", env) for n in (1, 2)]
        specs += [spec("conversation", f"conversation-{n}", env) for n in (1, 2, 3)]
        specs += [spec("notifier", f"notifier-{n}", env) for n in (1, 2)]
        specs.append(spec("registration", "registration", env))
        supervisor = Supervisor(stop_timeout=30)
        await supervisor.start(specs)
        try:
            await supervisor.wait_ready(timeout=90)
            ingress_urls = {
                s.name: s.ready_url.rsplit("/", 1)[0] for s in specs if s.name.startswith("ingress")
            }
            sent, elapsed = await run_load(supervisor, env, ingress_urls)
            with contextlib.suppress(TimeoutError):  # what is missing is told by check() below
                await standin.wait_for(USERS * MESSAGES, timeout=90)
            await asyncio.sleep(2)  # time for a duplicate to show up, if one were sent
        finally:
            await supervisor.stop()
    check(sent, standin, elapsed)


async def run_load(supervisor: Supervisor, env: dict[str, str], ingress: dict[str, str]):
    """Each person sends their messages one after another (the next once the webhook was accepted);
    webhooks alternate between the ingress replicas and fail over when one is gone."""
    sent: dict[str, list[str]] = defaultdict(list)
    live = dict(ingress)
    counter = itertools.count()
    started = time.perf_counter()

    async def person(http: aiohttp.ClientSession, u: int) -> None:
        wa_id = f"55649{u:08d}"
        for m, text in enumerate(TEXTS):
            wamid = f"wamid.scale.{u}.{m}"
            body = samples.meta_text(text, wamid=wamid, wa_id=wa_id)
            headers = {
                "X-Hub-Signature-256": samples.meta_signature(SECRET, body),
                "Content-Type": "application/json",
            }
            for _attempt in range(20):  # like Meta: retry until a replica accepts it
                base = list(live.values())[next(counter) % len(live)]
                try:
                    async with http.post(f"{base}/webhooks/meta", data=body, headers=headers) as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise AssertionError(f"{wamid} was never accepted")
            sent[wa_id].append(wamid)
            await asyncio.sleep(0.05)

    async def churn() -> None:
        await asyncio.sleep(2.0)  # mid-run: one replica of each goes, another comes
        live.pop("ingress-1")
        for name in ("ingress-1", "conversation-1", "notifier-1"):
            await supervisor.terminate(name)
        fresh = [spec("ingress", "ingress-3", env), spec("conversation", "conversation-4", env),
                 spec("notifier", "notifier-3", env)]  # fmt: skip
        await supervisor.start(fresh)
        await supervisor.wait_ready(timeout=60, names=[s.name for s in fresh])
        live["ingress-3"] = fresh[0].ready_url.rsplit("/", 1)[0]

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        await asyncio.gather(churn(), *(person(http, u) for u in range(USERS)))
    return sent, time.perf_counter() - started


def check(sent: dict[str, list[str]], standin: GraphStandin, elapsed: float) -> None:
    expected = {str(SendWhatsAppMessage.id_for_reply(w, 0)): w for ws in sent.values() for w in ws}
    counts: dict[str, int] = defaultdict(int)
    answered: dict[str, list[str]] = defaultdict(list)
    for message in standin.messages:
        command_id = message.body["biz_opaque_callback_data"]
        counts[command_id] += 1
        answered[message.body["to"]].append(expected.get(command_id, f"unexpected:{command_id}"))
    lost = [w for c, w in expected.items() if counts[c] == 0]
    duplicated = [expected.get(c, c) for c, n in counts.items() if n > 1]
    reordered = [u for u, ws in sent.items() if answered[u] != ws]
    total = sum(len(ws) for ws in sent.values())
    print(f"\nscale demo: {total} messages from {len(sent)} people in {elapsed:.1f} s; "
          f"lost {len(lost)}, duplicated {len(duplicated)}, out of order {len(reordered)}")  # fmt: skip
    assert not lost, f"lost: {lost[:5]}"
    assert not duplicated, f"duplicated: {duplicated[:5]}"
    assert not reordered, (
        f"out of order, e.g. {reordered[0]}: {answered[reordered[0]]} for {sent[reordered[0]]}"
    )
