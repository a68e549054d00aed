"""End-to-end pipeline benchmark: signed webhook in → greeting at the Graph API stand-in.

Starts the four services as processes against the machine's RabbitMQ, PostgreSQL and Redis (a
throwaway vhost, database and Redis db), then measures
  1. latency of one message at a time (p50 / p95 / max), and
  2. throughput and latency under concurrent load (N messages, C in flight).
Prints the figures; asserts nothing. Usage: python bench/pipeline.py [--messages N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import aiohttp
from aiohttp import web

from devkit import infra, samples
from devkit.graph_standin import GraphStandin
from devkit.processes import SERVICES, Supervisor, service_spec

SECRET = "bench-secret"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run_bench(messages: int, concurrency: int, sequential: int) -> None:
    standin = GraphStandin()
    runner = web.AppRunner(standin.app())
    await runner.setup()
    graph_port = infra.free_port()
    await web.TCPSite(runner, "127.0.0.1", graph_port).start()
    with (
        infra.rabbitmq_vhost("congress-bench") as amqp_url,
        infra.migrated_database("congress_bench") as db_url,
        infra.migrated_database("congress_bench_notifier", service="notifier") as notifier_db_url,
    ):
        env = {
            "AMQP_URL": amqp_url,
            "REDIS_URL": infra.redis_database(14),
            "DATABASE_URL": db_url,
            "NOTIFIER_DATABASE_URL": notifier_db_url,
            "META_APP_SECRET": SECRET,
            "META_GRAPH_URL": f"http://127.0.0.1:{graph_port}",
            "LOG_LEVEL": "WARNING",
        }
        ports = {name: infra.free_port() for name in SERVICES}
        supervisor = Supervisor()
        await supervisor.start([service_spec(name, ports[name], env) for name in SERVICES])
        try:
            await supervisor.wait_ready(timeout=60)
            url = f"http://127.0.0.1:{ports['ingress']}/webhooks/meta"
            async with aiohttp.ClientSession() as http:
                await measure(http, url, standin, "warm-up", 20, 4)
                await measure(http, url, standin, "one at a time", sequential, 1)
                await measure(http, url, standin, f"{concurrency} in flight", messages, concurrency)
        finally:
            await supervisor.stop()
            await runner.cleanup()


async def measure(
    http: aiohttp.ClientSession, url: str, standin: GraphStandin, label: str, count: int, concurrency: int
) -> None:
    run = uuid.uuid4().hex[:6]
    sent_at: dict[str, float] = {}
    webhook_ms: list[float] = []
    already = len(standin.messages)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        wa_id = f"55{run}{i:07d}"
        body = samples.meta_text("oi", wamid=f"wamid.bench.{run}.{i}", wa_id=wa_id)
        headers = {
            "X-Hub-Signature-256": samples.meta_signature(SECRET, body),
            "Content-Type": "application/json",
        }
        async with semaphore:
            start = time.perf_counter()
            sent_at[wa_id] = start
            async with http.post(url, data=body, headers=headers) as response:
                assert response.status == 200, await response.text()
            webhook_ms.append((time.perf_counter() - start) * 1000)
            if concurrency == 1:  # strictly one message in the system at a time
                await standin.wait_for(already + len(sent_at), timeout=30)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    arrived = await standin.wait_for(already + count, timeout=120)
    elapsed = time.perf_counter() - started
    e2e_ms = [(m.arrived_at - sent_at[m.body["to"]]) * 1000 for m in arrived[already:]]
    print(
        f"{label:>16}: {count} messages in {elapsed:.2f}s = {count / elapsed:.0f} msg/s | "
        f"end-to-end p50 {statistics.median(e2e_ms):.1f} ms, p95 {percentile(e2e_ms, 95):.1f} ms, "
        f"max {max(e2e_ms):.1f} ms | webhook answered p50 {statistics.median(webhook_ms):.1f} ms, "
        f"p95 {percentile(webhook_ms, 95):.1f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sequential", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(run_bench(args.messages, args.concurrency, args.sequential))


if __name__ == "__main__":
    main()
