"""Ingress benchmark: signed Meta webhooks over real HTTP, ingress beside a bare endpoint.

Both run as single processes against this machine's RabbitMQ (a throwaway vhost) — ingress also
against Redis — and are driven by an aiohttp client on the same box:
  1. saturation (closed loop, C in flight): accepted webhooks/s and latency, in rounds (the order
     alternating; the ratio printed is the median of the rounds' ratios);
  2. open loop at a fixed offered rate: p50/p95/p99, measured from each request's scheduled time
     (so queueing is counted, not hidden).
Prints figures; asserts nothing. Usage: python bench/ingress.py [--rate 1000] [--seconds 5]
(``--help`` for the rest). Ingress runs with its production per-sender rate limit (every simulated
webhook comes from its own sender, so nobody is limited; the check is paid) unless
``--no-rate-limit``. Its Redis database is ``--redis-db`` ($TEST_REDIS_DB, else 13), emptied first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
import uuid

import aio_pika
import aiohttp
import uvloop

from devkit import infra, samples
from devkit.harness.resources import CpuMeter, infra_pids
from devkit.processes import Spec, Supervisor, service_spec

SECRET = "bench-secret"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def bodies(n: int) -> list[bytes]:
    run = uuid.uuid4().hex[:6]
    return [
        samples.meta_text("oi", wamid=f"wamid.bench.{run}.{i}", wa_id=f"55{run}{i:07d}") for i in range(n)
    ]


async def post(http: aiohttp.ClientSession, url: str, body: bytes) -> int:
    headers = {
        "X-Hub-Signature-256": samples.meta_signature(SECRET, body),
        "Content-Type": "application/json",
    }
    try:
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status
    except aiohttp.ClientError:  # e.g. a keep-alive connection the server closed: counted as an error
        return 0


async def saturate(http: aiohttp.ClientSession, url: str, count: int, concurrency: int) -> tuple[float, str]:
    payloads = bodies(count)
    latencies: list[float] = []
    errors = 0
    queue = iter(payloads)

    async def worker() -> None:
        nonlocal errors
        for body in queue:
            start = time.perf_counter()
            if await post(http, url, body) != 200:
                errors += 1
            latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    achieved = count / (time.perf_counter() - started)
    return achieved, (
        f"saturated ({concurrency} in flight): {achieved:,.0f} webhooks/s, "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {pct(latencies, 99):.1f} ms, errors {errors}"
    )


async def measured_saturation(
    http: aiohttp.ClientSession,
    url: str,
    pid: int,
    shared: dict[str, list[int]],
    count: int,
    concurrency: int,
) -> tuple[float, str]:
    """``saturate``, with what each webhook cost: the whole box's CPU is what saturation shares
    out, the endpoint's and what each webhook costs RabbitMQ, Redis and this client besides."""
    meter = CpuMeter(
        {"endpoint": [pid], "RabbitMQ": shared["rabbitmq"], "Redis": shared["redis"], "client": [os.getpid()]}
    )
    before = meter.sample()
    rate, figures = await saturate(http, url, count, concurrency)
    used = CpuMeter.delta(before, meter.sample())
    cpu_us = {group: seconds / count * 1e6 for group, seconds in used.items()}
    own = cpu_us.pop("endpoint")
    others = ", ".join(f"{group} {us:.0f}" for group, us in cpu_us.items())
    return rate, f"{figures}; CPU {own:.0f} µs/webhook ({others})"


async def open_loop(http: aiohttp.ClientSession, url: str, rate: float, seconds: float) -> str:
    count = int(rate * seconds)
    payloads = bodies(count)
    latencies: list[float] = []
    errors = 0

    async def one(body: bytes, scheduled: float) -> None:
        nonlocal errors
        if await post(http, url, body) != 200:
            errors += 1
        latencies.append((time.perf_counter() - scheduled) * 1000)

    start = time.perf_counter()
    tasks = []
    for i, body in enumerate(payloads):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(body, scheduled)))
    await asyncio.gather(*tasks)
    achieved = count / (time.perf_counter() - start)
    return (
        f"open loop {rate:,.0f}/s offered ({achieved:,.0f}/s completed): "
        f"p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {pct(latencies, 95):.1f} ms, p99 {pct(latencies, 99):.1f} ms, errors {errors}"
    )


async def purge_queues(amqp_url: str) -> None:
    """Empty every queue of the vhost (nothing consumes them during the bench)."""
    names = list(infra.rabbitmq_queue_depths(amqp_url))
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in names:
            queue = await channel.declare_queue(name, passive=True)
            await queue.purge()


async def run(
    rate: float,
    seconds: float,
    count: int,
    concurrency: int,
    *,
    redis_db: int,
    rate_limit: bool,
    amqp_url: str | None,
    rounds: int = 4,
    bare_quorum: int = 0,
) -> None:
    ingress_port, bare_port = infra.free_port(), infra.free_port()
    vhost = contextlib.nullcontext(amqp_url) if amqp_url else infra.rabbitmq_vhost("congress-bench")
    with vhost as amqp_url:
        env = {
            "AMQP_URL": amqp_url,
            "REDIS_URL": infra.redis_database(redis_db),
            "META_APP_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
        }
        if not rate_limit:
            env["RATE_LIMIT_BURST"] = "0"
        bare = Spec(
            "bare",
            [
                sys.executable,
                os.path.join(os.path.dirname(__file__), "bare_webhook.py"),
                str(bare_port),
                amqp_url,
                SECRET,
                str(bare_quorum),
            ],
        )
        supervisor = Supervisor()
        await supervisor.start([service_spec("ingress", ingress_port, env), bare])
        try:
            await supervisor.wait_ready(timeout=60)
            await asyncio.sleep(1.0)  # the bare endpoint has no /readyz
            ingress_pid, bare_pid = (child.process.pid for child in supervisor.children)
            shared = infra_pids()
            print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
            endpoints = {
                "bare endpoint": (f"http://127.0.0.1:{bare_port}/webhook", bare_pid),
                "ingress": (f"http://127.0.0.1:{ingress_port}/webhooks/meta", ingress_pid),
            }
            rates: dict[str, list[float]] = {name: [] for name in endpoints}
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as http:
                for url, _ in endpoints.values():
                    await saturate(http, url, 300, 8)  # warm-up
                # Rounds, the order alternating: this VM's speed drifts over seconds, and one
                # endpoint measured always first (or in one slow second) would decide the ratio.
                for round_ in range(1, rounds + 1):
                    order = list(endpoints) if round_ % 2 else list(reversed(endpoints))
                    for name in order:
                        url, pid = endpoints[name]
                        achieved, figures = await measured_saturation(
                            http, url, pid, shared, count, concurrency
                        )
                        rates[name].append(achieved)
                        print(f"round {round_} {name:>13} | {figures}", flush=True)
                        await purge_queues(amqp_url)  # the next run does not pay for this one's backlog
                        await asyncio.sleep(2)  # and RabbitMQ has finished what the purge left behind
                    ratio = rates["ingress"][-1] / rates["bare endpoint"][-1]
                    print(f"round {round_} ratio ingress / bare endpoint: {ratio:.2f}", flush=True)
                for name, (url, _) in endpoints.items():
                    print(f"{name:>13} | {await open_loop(http, url, rate, seconds)}", flush=True)
                    await purge_queues(amqp_url)
            ratios = [i / b for i, b in zip(rates["ingress"], rates["bare endpoint"], strict=True)]
            print(
                f"saturated, median of {rounds} rounds: bare endpoint "
                f"{statistics.median(rates['bare endpoint']):,.0f}/s, ingress "
                f"{statistics.median(rates['ingress']):,.0f}/s; ratio ingress / bare endpoint: median "
                f"{statistics.median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
                "; load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
                flush=True,
            )
        finally:
            await supervisor.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=1000, help="open loop: webhooks/s offered")
    parser.add_argument("--seconds", type=float, default=5, help="open loop: how long")
    parser.add_argument(
        "--count", type=int, default=10000, help="saturation: webhooks per endpoint and round"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="saturation: requests in flight")
    parser.add_argument(
        "--rounds", type=int, default=4, help="saturation: rounds of both endpoints, the order alternating"
    )
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("TEST_REDIS_DB", "13")))
    parser.add_argument("--no-rate-limit", action="store_true", help="turn ingress's rate limit off")
    parser.add_argument(
        "--bare-quorum",
        type=int,
        default=0,
        help="the bare endpoint publishes to N quorum queues (a user message reaches 2), not 1 classic",
    )
    parser.add_argument(
        "--amqp-url", help="an existing vhost to use (default: a throwaway one; creating it can be slow)"
    )
    args = parser.parse_args()
    # The client shares the box with both endpoints: on uvloop, as they are, it takes less of it.
    uvloop.run(
        run(
            args.rate,
            args.seconds,
            args.count,
            args.concurrency,
            redis_db=args.redis_db,
            rate_limit=not args.no_rate_limit,
            amqp_url=args.amqp_url,
            rounds=args.rounds,
            bare_quorum=args.bare_quorum,
        )
    )


if __name__ == "__main__":
    main()
