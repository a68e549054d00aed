"""Kill the notifier (SIGKILL) mid-send under load, start it again: every message goes out once.

400 send commands over 80 conversations go to a notifier process whose provider (the Graph API
stand-in) takes 100 ms per call; a quarter in, the stand-in holds its calls unanswered, so sends
are in flight when the process dies (the stand-in does not take those: they never reached "Meta"). Meta's part is played as Meta
does it: a ``sent`` receipt carrying our id (``biz_opaque_callback_data``) for every message the
stand-in accepted, published where ingress publishes receipts. After a restart, a send the kill
interrupted inside the provider call is found ``sending`` and marked ``unknown``; its receipt, if
the stand-in had it, settles it as sent; if not, it is sent again once
``NOTIFIER_UNKNOWN_RESEND_AFTER_S`` passed. The stand-in counts each command id: exactly once each,
and every row ends ``sent``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest
from database.engine import create_engine, create_sessionmaker
from sqlalchemy import select

from common.contracts import DeliveryStatus
from common.messaging import EXCHANGE, publish_headers
from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import factories, infra
from devkit.processes import Supervisor, service_spec
from notifier.models import Delivery

pytestmark = pytest.mark.e2e

COMMANDS, CONVERSATIONS = 400, 80
RESEND_AFTER_S = 2.0
FINAL = {"sent", "failed_permanent"}


async def start_notifier(env: dict[str, str]) -> Supervisor:
    supervisor = Supervisor(stop_timeout=20)
    await supervisor.start([service_spec("notifier", infra.free_port(), env)])
    await supervisor.wait_ready(timeout=60)
    return supervisor


async def test_sigkill_mid_send_sends_each_message_exactly_once(redis_url, notifier_database_url, graph_api):
    graph = graph_api.standin
    graph.delay_s = 0.1
    graph.take_abandoned = False  # a send cut by the kill never reached "Meta": it must be resent
    with infra.rabbitmq_vhost("congress-notifier-crash") as amqp_url:
        env = {
            "ENVIRONMENT": "test",
            "AMQP_URL": amqp_url,
            "REDIS_URL": redis_url,
            "NOTIFIER_DATABASE_URL": notifier_database_url,
            "META_GRAPH_URL": graph_api.url,
            "META_ACCESS_TOKEN": "test-access-token",
            "NOTIFIER_RETRY_DELAYS_S": "0.3,0.3,0.3",
            "NOTIFIER_WHATSAPP_RETRY_DELAYS_S": "0.3,0.3,0.3",
            "NOTIFIER_UNKNOWN_RESEND_AFTER_S": str(RESEND_AFTER_S),
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
        await graph.wait_for(COMMANDS // 4, timeout=60)
        graph.hold()  # sends at the stand-in stay unanswered: the kill lands mid-call however slow the box
        await graph.wait_in_flight(timeout=10)
        [child] = first.children
        child.process.kill()  # SIGKILL: no graceful stop, sends cut mid-call
        await child.process.wait()
        await asyncio.sleep(0.2)  # the stand-in sees those connections close
        graph.release()
        await asyncio.sleep(0.5)  # the held requests finish (not taken: their caller is gone)
        killed_after = len(graph.messages)
        for n, message in enumerate(graph.messages, start=1):  # Meta's receipts of what it accepted
            receipt = factories.message_status_changed(
                provider_message_id=f"wamid.standin.{n}",
                status=DeliveryStatus.SENT,
                status_at=datetime.now(UTC),
                tracker=message.body["biz_opaque_callback_data"],
            )
            await broker.publish(
                receipt, exchange=EXCHANGE, routing_key=receipt.ROUTING_KEY,
                message_type=receipt.message_type(), message_id=str(receipt.message_id), persist=True,
            )  # fmt: skip
        await broker.stop()
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
    resent = sum(1 for r in rows.values() if r.attempts > 1)
    by_receipt = sum(1 for r in rows.values() if r.attempts == 1 and "interrupted" in (r.last_error or ""))
    print(f"killed after {killed_after} sends ({graph.abandoned} cut); received {len(received)} distinct; log: {dict(statuses)}; "
          f"interrupted mid-call: {by_receipt} settled by their receipt, {resent} sent again")  # fmt: skip
    assert not twice, f"sent more than once: {twice}"
    assert killed_after < COMMANDS and graph.abandoned > 0  # the kill did land mid-send
    assert statuses == {"sent": COMMANDS}
    assert all(received[str(id_)] == 1 for id_ in rows), "a command never reached the provider"
