"""Notifier benchmark: send commands in → messages at the Graph API stand-in, delivery log written.

Starts the notifier as a process against the machine's RabbitMQ, PostgreSQL and Redis (a throwaway
vhost, delivery-log database and Redis db 14 unless ``--redis-db``), publishes N send commands
spread over C conversations, and measures until every one is at the stand-in *and* its log row
says ``sent``. Then N user messages (``message.received``): until every one is marked read at the
stand-in (the 24-hour window recorded on the way). The notifier's CPU per message for both.
Prints the figures; asserts nothing.
Usage: python bench/notifier_sends.py [--messages N] [--conversations C] [--redis-db D]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiohttp import web
from database.engine import create_engine, create_sessionmaker
from faststream.rabbit import RabbitBroker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.contracts import Contract
from common.messaging import EXCHANGE, publish_headers
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import factories, infra
from devkit.graph_standin import GraphStandin
from devkit.harness.resources import cpu_seconds
from devkit.processes import Supervisor, service_spec
from notifier.models import Delivery


async def sent_rows(sessions: async_sessionmaker[AsyncSession], before: int) -> int:
    async with sessions() as session:
        count = await session.scalar(select(func.count()).where(Delivery.status == "sent"))
        return int(count or 0) - before


async def publish(broker: RabbitBroker, command: Contract) -> None:
    await broker.publish(
        command,
        exchange=EXCHANGE,
        routing_key=command.ROUTING_KEY,
        message_type=command.message_type(),
        message_id=str(command.message_id),
        headers=publish_headers(command),
        persist=True,
    )


async def run_bench(messages: int, conversations: int, redis_db: int) -> None:
    standin = GraphStandin()
    runner = web.AppRunner(standin.app())
    await runner.setup()
    graph_port = infra.free_port()
    await web.TCPSite(runner, "127.0.0.1", graph_port).start()
    with (
        infra.rabbitmq_vhost("congress-bench-notifier") as amqp_url,
        infra.migrated_database("congress_bench_notifier", service="notifier") as db_url,
    ):
        env = {
            "AMQP_URL": amqp_url,
            "REDIS_URL": infra.redis_database(redis_db),
            "NOTIFIER_DATABASE_URL": db_url,
            "META_GRAPH_URL": f"http://127.0.0.1:{graph_port}",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_BUSINESS_PER_S": "0",  # measure the notifier, not Meta's default limit
            "RATE_LIMIT_RECIPIENT_PER_MINUTE": "0",
        }
        supervisor = Supervisor()
        await supervisor.start([service_spec("notifier", infra.free_port(), env)])
        engine = create_engine(db_url)
        sessions = create_sessionmaker(engine)
        broker = ServiceRuntime.build(ServiceSettings(amqp_url=amqp_url), name="bench", version="0").broker
        try:
            await supervisor.wait_ready(timeout=60)
            await asyncio.sleep(1)  # the shard leases are taken right after readiness
            await broker.connect()
            pid = supervisor.children[0].process.pid
            for label, count in (("warm-up", 200), (f"{messages} commands", messages)):
                commands = [
                    factories.send_whatsapp_message(conversation_key=f"meta:bench:{n % conversations}")
                    for n in range(count)
                ]
                before_msgs, before_rows = len(standin.messages), await sent_rows(sessions, 0)
                cpu_before = cpu_seconds(pid)
                started = time.perf_counter()
                for batch in range(0, count, 200):
                    await asyncio.gather(*(publish(broker, c) for c in commands[batch : batch + 200]))
                published = time.perf_counter() - started
                await standin.wait_for(before_msgs + count, timeout=600)
                at_standin = time.perf_counter() - started
                while await sent_rows(sessions, before_rows) < count:  # noqa: ASYNC110 (polling the log)
                    await asyncio.sleep(0.02)
                logged = time.perf_counter() - started
                cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / count
                print(
                    f"{label:>16}: {count / logged:7.0f} sends/s with the log written "
                    f"({count / at_standin:.0f}/s at the stand-in; published in {published:.2f} s, "
                    f"all logged after {logged:.2f} s); notifier CPU {cpu_ms:.2f} ms/send",
                    flush=True,
                )
            received = [
                factories.message_received(
                    provider_message_id=f"wamid.bench.{n}", conversation_key=f"meta:bench:{n % conversations}"
                )
                for n in range(messages)
            ]
            cpu_before, started = cpu_seconds(pid), time.perf_counter()
            for batch in range(0, messages, 200):
                await asyncio.gather(*(publish(broker, m) for m in received[batch : batch + 200]))
            while len(standin.reads) < messages:  # noqa: ASYNC110 (polling the stand-in)
                await asyncio.sleep(0.02)
            marked = time.perf_counter() - started
            cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / messages
            print(
                f"{messages:>7} received: {messages / marked:7.0f} marked read/s (window recorded); "
                f"notifier CPU {cpu_ms:.2f} ms/message",
                flush=True,
            )
        finally:
            await broker.stop()
            await engine.dispose()
            await supervisor.stop()
            await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--redis-db", type=int, default=14)
    args = parser.parse_args()
    asyncio.run(run_bench(args.messages, args.conversations, args.redis_db))


if __name__ == "__main__":
    main()
