"""Kill the notifier (SIGKILL) mid-send under load, start it again: nobody gets a message twice.

400 send commands over 80 conversations go to a notifier process whose provider (the Graph API
stand-in) takes 30 ms per call, so sends are in flight when it dies. After a restart every command
must end up in the delivery log as ``sent``, or as ``unknown`` when it was interrupted inside the
provider call (the window no design closes: not resent). The stand-in counts each command id
(``biz_opaque_callback_data``): at most once each, and every ``sent`` one exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from database.engine import create_engine, create_sessionmaker
from sqlalchemy import select

from common.messaging import EXCHANGE, publish_headers
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import factories, infra
from devkit.processes import Supervisor, service_spec
from notifier.models import Delivery

pytestmark = pytest.mark.e2e

COMMANDS, CONVERSATIONS = 400, 80
FINAL = {"sent", "unknown", "failed_permanent"}


async def start_notifier(env: dict[str, str]) -> Supervisor:
    supervisor = Supervisor(stop_timeout=20)
    await supervisor.start([service_spec("notifier", infra.free_port(), env)])
    await supervisor.wait_ready(timeout=60)
    return supervisor


async def test_sigkill_mid_send_never_sends_twice(redis_url, notifier_database_url, graph_api):
    graph = graph_api.standin
    graph.delay_s = 0.03
    with infra.rabbitmq_vhost("congress-notifier-crash") as amqp_url:
        env = {
            "ENVIRONMENT": "test",
            "AMQP_URL": amqp_url,
            "REDIS_URL": redis_url,
            "NOTIFIER_DATABASE_URL": notifier_database_url,
            "META_GRAPH_URL": graph_api.url,
            "META_ACCESS_TOKEN": "test-access-token",
            "NOTIFIER_RETRY_DELAYS_S": "0.3,0.3,0.3",
            "LOG_LEVEL": "WARNING",
        }
        first = await start_notifier(env)
        broker = ServiceRuntime.build(ServiceSettings(amqp_url=amqp_url), name="test", version="0").broker
        await broker.connect()
        commands = [
            factories.send_whatsapp_message(
                conversation_key=f"meta:1122334455667:5564{n % CONVERSATIONS:09d}"
            )
            for n in range(COMMANDS)
        ]
        for command in commands:
            await broker.publish(
                command, exchange=EXCHANGE, routing_key=command.ROUTING_KEY, message_type=command.message_type(),
                message_id=str(command.message_id), headers=publish_headers(command), persist=True,
            )  # fmt: skip
        await broker.stop()
        await graph.wait_for(COMMANDS // 4, timeout=60)
        [child] = first.children
        child.process.kill()  # SIGKILL: no graceful stop, sends cut mid-call
        await child.process.wait()
        killed_after = len(graph.messages)
        second = await start_notifier(env)
        try:
            engine = create_engine(notifier_database_url)
            sessions = create_sessionmaker(engine)
            ids = [c.message_id for c in commands]
            async with asyncio.timeout(120):
                while True:
                    async with sessions() as session:
                        rows = {
                            r.id: r
                            for r in await session.scalars(select(Delivery).where(Delivery.id.in_(ids)))
                        }
                    if len(rows) == COMMANDS and all(r.status in FINAL for r in rows.values()):
                        break
                    await asyncio.sleep(0.2)
            await engine.dispose()
        finally:
            await second.stop()
    received = Counter(m.body["biz_opaque_callback_data"] for m in graph.messages)
    twice = {k: n for k, n in received.items() if n > 1}
    statuses = Counter(r.status for r in rows.values())
    print(f"killed after {killed_after} sends; received {len(received)} distinct; log: {dict(statuses)}")
    assert not twice, f"sent more than once: {twice}"
    assert killed_after < COMMANDS  # the kill did land mid-load
    for id_, row in rows.items():
        if row.status == "sent":
            assert received[str(id_)] == 1
        else:
            assert row.status == "unknown", (id_, row.status, row.last_error)
    assert statuses["unknown"] <= 8  # at most one in flight per shard when it died
