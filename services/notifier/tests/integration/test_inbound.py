"""What users write, as the notifier sees it: read marks, and Meta's 24-hour window tracked.

Real broker, database and Redis; the Graph API and gateway stand-ins over HTTP. The window is
"set back" by publishing a user message with an older ``sent_at``, the way ingress would.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest
from redis.asyncio import Redis

from common.contracts import AddressKind, MessageKind, Provider, Reaction, ReplyAddress
from common.messaging import NOTIFIER_MESSAGES_RECEIVED
from devkit import factories
from notifier.window import CustomerWindows, WindowState

pytestmark = pytest.mark.integration

BUSINESS = "1122334455667"


def inbound(*, hours_ago: float = 0.0, **overrides):
    """A user's message in a conversation of its own (unless told otherwise)."""
    user = overrides.pop("user", f"55619{uuid.uuid4().int % 10**8:08d}")
    fields = {
        "provider_message_id": f"wamid.{uuid.uuid4().hex}",
        "conversation_key": f"meta:{BUSINESS}:{user}",
        "reply_to": ReplyAddress(kind=AddressKind.WA_ID, id=user),
        "sent_at": datetime.now(UTC) - timedelta(hours=hours_ago),
    }
    return factories.message_received(**(fields | overrides))


def notice_to(received, **overrides):
    """A message nobody asked for just now (like a waiting-list promotion): no ``in_reply_to``."""
    fields = {"conversation_key": received.conversation_key, "to": received.reply_to}
    return factories.send_whatsapp_message(**(fields | overrides))


async def until(predicate, timeout=10.0):
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 (polling what a stand-in recorded)
            await asyncio.sleep(0.05)


def read_marks(notifier, provider, outcome):
    registry = notifier.app.state.runtime.registry
    value = registry.get_sample_value("notifier_read_marks_total", {"provider": provider, "outcome": outcome})
    return value or 0.0


async def handled(notifier, graph, received):
    """Publish a user's message and wait until the notifier has handled it (it marks it read)."""
    await notifier.publish(received)
    await until(lambda: any(r.message_id == received.provider_message_id for r in graph.reads))


async def test_a_received_message_is_marked_read_once_even_when_delivered_twice(notifier_factory, graph):
    notifier = await notifier_factory()
    received = inbound()
    await notifier.publish(received)
    await notifier.publish(received)  # the same event again, as a redelivery brings it
    await until(lambda: graph.read_attempts >= 1)
    await until(lambda: read_marks(notifier, "meta", "duplicate") >= 1)
    assert [(r.phone_number_id, r.message_id, r.typing_indicator) for r in graph.reads] == [
        (BUSINESS, received.provider_message_id, False)
    ]
    assert graph.read_attempts == 1 and graph.messages == []


async def test_typing_indicator_when_configured_except_for_what_gets_no_answer(notifier_factory, graph):
    notifier = await notifier_factory(meta_typing_indicator=True)
    text, reaction = (
        inbound(),
        inbound(kind=MessageKind.REACTION, text=None, reaction=Reaction(message_id="wamid.x", emoji="👍")),
    )
    late = inbound(occurred_at=datetime.now(UTC) - timedelta(seconds=30))  # our reply may be out
    await handled(notifier, graph, text)
    await handled(notifier, graph, reaction)
    await handled(notifier, graph, late)
    assert [r.typing_indicator for r in graph.reads] == [True, False, False]


async def test_a_failed_read_mark_is_counted_not_retried_nor_dead_lettered(notifier_factory, graph):
    notifier = await notifier_factory()
    graph.fail_reads = 1
    await notifier.publish(inbound())
    await until(lambda: read_marks(notifier, "meta", "failed") == 1)
    await asyncio.sleep(0.5)
    assert graph.read_attempts == 1 and graph.reads == []
    connection = await aio_pika.connect(notifier.amqp_url)
    async with connection:
        channel = await connection.channel()
        dead = await channel.get_queue(NOTIFIER_MESSAGES_RECEIVED.dead_letter_name, ensure=False)
        queue = await channel.get_queue(NOTIFIER_MESSAGES_RECEIVED.name, ensure=False)
        assert await dead.get(fail=False) is None and await queue.get(fail=False) is None


async def test_read_marks_can_be_turned_off(notifier_factory, graph, redis_url):
    notifier = await notifier_factory(notifier_mark_read=False, meta_reengage_template="retomar_conversa")
    received = inbound(hours_ago=30)
    await notifier.publish(received)
    # Still tracked: the window knows it is closed, so the notice goes as the template.
    redis = Redis.from_url(redis_url)
    windows = CustomerWindows(redis)
    async with asyncio.timeout(10):
        while await windows.state(received.conversation_key) is not WindowState.CLOSED:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await redis.aclose()
    cmd = notice_to(received)
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    assert row.kind == "template" and graph.read_attempts == 0


async def test_outside_the_window_the_template_goes_at_once(notifier_factory, graph):
    notifier = await notifier_factory(meta_reengage_template="retomar_conversa")
    received = inbound(hours_ago=25)
    await handled(notifier, graph, received)
    cmd = notice_to(received)
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    assert row.kind == "template" and row.attempts == 1
    assert graph.attempts == 1  # no free-form call first that Meta would refuse
    [sent] = graph.messages
    assert sent.body["type"] == "template" and sent.body["template"]["name"] == "retomar_conversa"
    assert sent.body["to"] == received.reply_to.id


async def test_inside_the_window_the_text_goes(notifier_factory, graph):
    notifier = await notifier_factory(meta_reengage_template="retomar_conversa")
    received = inbound(hours_ago=23)
    await handled(notifier, graph, received)
    cmd = notice_to(received)
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    assert row.kind == "text"
    [sent] = graph.messages
    assert sent.body["type"] == "text" and sent.text == "Olá!"


async def test_a_late_older_message_does_not_close_the_window_again(notifier_factory, graph):
    notifier = await notifier_factory(meta_reengage_template="retomar_conversa")
    recent = inbound(hours_ago=1)
    await handled(notifier, graph, recent)
    old = inbound(hours_ago=30, user=recent.reply_to.id)  # e.g. a re-delivery arriving late
    await handled(notifier, graph, old)
    cmd = notice_to(recent)
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    assert row.kind == "text"


async def test_outside_the_window_without_a_template_fails_permanently_without_a_call(
    notifier_factory, graph
):
    notifier = await notifier_factory()
    received = inbound(hours_ago=48)
    await handled(notifier, graph, received)
    cmd = notice_to(received)
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "failed_permanent")
    assert "24-hour window" in (row.last_error or "") and "META_REENGAGE_TEMPLATE" in (row.last_error or "")
    assert row.attempts == 1 and graph.attempts == 0


async def test_a_reply_goes_as_text_even_if_the_record_says_closed(notifier_factory, graph):
    """The message it answers reopened the window; its record may simply not be written yet."""
    notifier = await notifier_factory(meta_reengage_template="retomar_conversa")
    received = inbound(hours_ago=26)
    await handled(notifier, graph, received)
    reply = notice_to(received, in_reply_to="wamid.just-now")
    await notifier.publish(reply)
    row = await notifier.row(reply.message_id, lambda r: r.status == "sent")
    assert row.kind == "text" and graph.attempts == 1


async def test_stale_knowledge_still_falls_back_on_131047(notifier_factory, graph):
    """Recorded as open, but Meta says closed (e.g. its clock, or a record we missed)."""
    notifier = await notifier_factory(meta_reengage_template="retomar_conversa")
    received = inbound(hours_ago=2)
    await handled(notifier, graph, received)
    graph.fail_next, graph.fail_status, graph.fail_code = 1, 400, 131047
    cmd = notice_to(received)
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    assert row.kind == "template" and row.attempts == 1 and graph.attempts == 2


@pytest.mark.parametrize(
    ("provider", "user_id", "expected"),
    [
        (
            Provider.ZAPI,
            "5564999991000",
            lambda m: {"phone": "5564999991000", "messageId": m},
        ),
        (
            Provider.EVOLUTION,
            "5564999991001@s.whatsapp.net",
            lambda m: {
                "readMessages": [{"remoteJid": "5564999991001@s.whatsapp.net", "fromMe": False, "id": m}]
            },
        ),
    ],
)
async def test_gateways_with_a_read_api_mark_read_once(
    notifier_factory, gateways_server, graph, provider, user_id, expected
):
    gateways_server.standin.reset()
    notifier = await notifier_factory()
    received = inbound(
        provider=provider,
        business_id="instancia-1",
        conversation_key=f"{provider}:instancia-1:{user_id}",
        reply_to=ReplyAddress(kind=AddressKind.JID, id=user_id),
        provider_message_id=f"3EB0{uuid.uuid4().hex[:16].upper()}",
    )
    await notifier.publish(received)
    await notifier.publish(received)
    await until(lambda: read_marks(notifier, provider.value, "duplicate") >= 1)
    [read] = gateways_server.standin.reads
    assert read.gateway == provider.value and read.instance == "instancia-1"
    assert read.body == expected(received.provider_message_id)
    assert graph.read_attempts == 0


async def test_whaticket_has_no_read_api_so_nothing_is_called(notifier_factory, gateways_server, graph):
    gateways_server.standin.reset()
    notifier = await notifier_factory()
    received = inbound(
        provider=Provider.WHATICKET,
        business_id="whaticket",
        conversation_key="whaticket:whaticket:5564999991002",
        reply_to=ReplyAddress(kind=AddressKind.WA_ID, id="5564999991002"),
    )
    await notifier.publish(received)
    await until(lambda: read_marks(notifier, "whaticket", "unsupported") == 1)
    assert gateways_server.standin.reads == [] and graph.read_attempts == 0
