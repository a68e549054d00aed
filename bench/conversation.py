"""Conversation alone, offline engine: messages/s through the dialogue, real broker and Redis.

Starts REPLICAS conversation processes and one registration process (the form asks it whether a CPF
or e-mail is taken, and registers at the end) against a throwaway vhost, database and Redis db.
Each of USERS simulated people runs a pt-BR script (greeting, two questions, the whole registration,
"minha inscrição"); their messages are published straight onto the bus (no ingress), and the
replies are watched on the bus (no notifier). Prints figures; asserts nothing.

Usage: python bench/conversation.py [--users 300] [--replicas 1]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from validate_docbr import CPF

from common.contracts import SendWhatsAppMessage
from common.messaging import EXCHANGE, declare_topology, publish_headers
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import factories, infra
from devkit.bus import tap
from devkit.processes import Supervisor, service_spec

SCRIPT = (
    "oi",
    "onde vai ser o evento?",
    "quanto custa?",
    "quero me inscrever",
    "sim",
    "{name}",
    "{email}",
    "{cpf}",
    "sim",
    "rio verde",
    "produtor rural",
    "sim",
    "minha inscrição",
)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def publish_script(amqp_url: str, users: int, published: dict[str, float]) -> None:
    """Every user's script, step by step (all users' step N, then step N+1), as fast as confirmed."""
    cpfs = CPF().generate_list(users)
    broker = ServiceRuntime.build(ServiceSettings(amqp_url=amqp_url), name="bench", version="0").broker
    await broker.connect()
    await declare_topology(broker)
    start = datetime.now(UTC)
    for step, template in enumerate(SCRIPT):
        batch = []
        for u in range(users):
            text = template.format(name="Maria da Silva", email=f"p{u}@example.com", cpf=cpfs[u])
            event = factories.message_received(
                provider_message_id=f"wamid.bench.{u}.{step}",
                conversation_key=f"meta:biz:55649{u:08d}",
                business_id="biz",
                text=text,
                sent_at=start + timedelta(seconds=step),
            )
            published[event.provider_message_id] = time.perf_counter()
            batch.append(
                broker.publish(
                    event,
                    exchange=EXCHANGE,
                    routing_key=event.ROUTING_KEY,
                    message_type=event.message_type(),
                    headers=publish_headers(event),
                    persist=True,
                )
            )
        await asyncio.gather(*batch)
    await broker.stop()


def report(
    users: int,
    replicas: int,
    elapsed: float,
    bodies: list[dict[str, Any]],
    arrived: list[float],
    published: dict[str, float],
) -> None:
    total = users * len(SCRIPT)
    first_reply: dict[str, float] = {}
    for body, at in zip(bodies, arrived, strict=True):
        first_reply.setdefault(body["in_reply_to"], at)
    waits = [(at - published[m]) * 1000 for m, at in first_reply.items()]
    codes = sum("Inscrição confirmada" in str(b["content"]) for b in bodies)
    per_user: dict[str, list[str]] = defaultdict(list)
    for body in bodies:
        per_user[body["conversation_key"]].append(body["in_reply_to"])
    in_order = sum(v == sorted(v, key=lambda m: int(m.rsplit(".", 1)[1])) for v in per_user.values())
    print(f"conversation x{replicas} (offline engine), {users} users x {len(SCRIPT)} messages = {total}")
    print(f"  throughput: {total / elapsed:,.0f} messages/s ({elapsed:.1f} s)")
    print(f"  registrations completed: {codes}/{users}; users answered in order: {in_order}/{users}")
    print(
        "  publish → reply (queueing included, all published at once): "
        f"p50 {percentile(waits, 50):,.0f} ms, p95 {percentile(waits, 95):,.0f} ms"
    )


async def run(users: int, replicas: int) -> None:
    with infra.rabbitmq_vhost("congress-bench") as amqp_url, infra.migrated_database("congress_bench") as db:
        env = {
            "AMQP_URL": amqp_url,
            "REDIS_URL": infra.redis_database(14),
            "DATABASE_URL": db,
            "LOG_LEVEL": "WARNING",
        }
        specs = [replace(service_spec("conversation", infra.free_port(), env), name=f"conversation-{n}")
                 for n in range(1, replicas + 1)]  # fmt: skip
        specs.append(service_spec("registration", infra.free_port(), env))
        supervisor = Supervisor()
        await supervisor.start(specs)
        try:
            await supervisor.wait_ready(timeout=60)
            await asyncio.sleep(5 if replicas > 1 else 1)  # leases settle
            published: dict[str, float] = {}
            async with tap(amqp_url, SendWhatsAppMessage.ROUTING_KEY) as sends:
                started = time.perf_counter()
                await publish_script(amqp_url, users, published)
                bodies = await sends.wait_for(users * len(SCRIPT), timeout=600)
                elapsed = time.perf_counter() - started
            offset = time.perf_counter() - asyncio.get_running_loop().time()
            report(users, replicas, elapsed, bodies, [at + offset for at in sends.arrived_at], published)
        finally:
            await supervisor.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--replicas", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args.users, args.replicas))


if __name__ == "__main__":
    main()
