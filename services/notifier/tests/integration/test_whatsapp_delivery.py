"""Sends through the real broker, database and a Graph API stand-in that fails on demand."""

import asyncio
import json

import aio_pika
import pytest

from common.contracts import AddressKind, DeliveryStatus, Provider, ReplyAddress, TextContent
from common.messaging import NOTIFIER_INBOX
from devkit import factories

pytestmark = pytest.mark.integration


def command(**overrides):
    return factories.send_whatsapp_message(**overrides)


async def test_three_500s_then_200_is_one_message_and_four_attempts(notifier_factory, graph):
    notifier = await notifier_factory()
    graph.fail_next, graph.fail_status = 3, 500
    cmd = command()
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    assert row.attempts == 4
    assert row.provider_message_id == "wamid.standin.1"
    assert graph.attempts == 4
    assert [m.body["biz_opaque_callback_data"] for m in graph.messages] == [str(cmd.message_id)]


async def test_400_is_failed_permanent_at_once_and_dead_lettered(notifier_factory, graph):
    notifier = await notifier_factory()
    graph.fail_next, graph.fail_status, graph.fail_code = 1, 400, 100
    cmd = command()
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "failed_permanent")
    assert row.attempts == 1 and "400" in (row.last_error or "")
    connection = await aio_pika.connect(notifier.amqp_url)
    async with connection:
        queue = await (await connection.channel()).get_queue(NOTIFIER_INBOX.dead_letter_name, ensure=False)
        dead = await _get(queue)
        assert json.loads(dead.body)["message_id"] == str(cmd.message_id)
    assert graph.messages == []


async def test_a_command_delivered_twice_is_sent_once(notifier_factory, graph):
    notifier = await notifier_factory()
    cmd = command()
    await notifier.publish(cmd)
    await notifier.publish(cmd)
    await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    await asyncio.sleep(0.5)
    assert len(graph.messages) == 1


async def test_outside_the_24_hour_window_the_template_goes_instead(notifier_factory, graph):
    notifier = await notifier_factory(meta_reengage_template="retomar_conversa")
    graph.fail_next, graph.fail_status, graph.fail_code = 1, 400, 131047
    cmd = command()
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    assert row.kind == "template" and row.attempts == 1
    [sent] = graph.messages
    assert sent.body["template"]["name"] == "retomar_conversa"


async def test_a_message_waiting_for_retry_does_not_hold_back_the_conversation(notifier_factory, graph):
    """Decided: later messages of the conversation overtake one in a retry tier (see README)."""
    notifier = await notifier_factory()
    graph.fail_next = 1
    first, second = (
        command(content=TextContent(body="primeira")),
        command(content=TextContent(body="segunda")),
    )
    await notifier.publish(first)
    await notifier.publish(second)
    await notifier.row(first.message_id, lambda r: r.status == "sent")
    assert [m.text for m in graph.messages] == ["segunda", "primeira"]


async def test_receipts_update_the_log_and_never_move_it_back(notifier_factory, graph):
    notifier = await notifier_factory()
    cmd = command()
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    for status in (DeliveryStatus.READ, DeliveryStatus.DELIVERED):
        await notifier.publish(
            factories.message_status_changed(
                provider_message_id=row.provider_message_id, tracker=str(cmd.message_id), status=status
            )
        )
    row = await notifier.row(cmd.message_id, lambda r: r.read_at is not None)
    await asyncio.sleep(0.3)
    row = await notifier.row(cmd.message_id)
    assert row.status == "read" and row.delivered_at is not None


@pytest.mark.parametrize(
    ("provider", "address", "gateway"),
    [
        (
            Provider.EVOLUTION,
            ReplyAddress(kind=AddressKind.JID, id="5564999990000@s.whatsapp.net"),
            "evolution",
        ),
        (Provider.ZAPI, ReplyAddress(kind=AddressKind.JID, id="5564999990001"), "zapi"),
        (Provider.WHATICKET, ReplyAddress(kind=AddressKind.JID, id="5564999990002"), "whaticket"),
    ],
)
async def test_other_gateways_send_to_the_id_the_message_came_from(
    notifier_factory, gateways_server, provider, address, gateway
):
    gateways_server.standin.reset()
    notifier = await notifier_factory()
    cmd = command(
        provider=provider, business_id="instancia-1", to=address, conversation_key=f"{provider}:x:y"
    )
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    [sent] = gateways_server.standin.sent
    assert sent.gateway == gateway
    assert address.id in json.dumps(sent.body) and "Olá!" in json.dumps(sent.body, ensure_ascii=False)
    assert row.provider_message_id


@pytest.mark.parametrize("saas", [False, True])
async def test_whaticket_gets_digits_and_either_answer_shape(notifier_factory, gateways_server, saas):
    """Whaticket wants `number` digits only and answers without an id (empty, or `mensagem`)."""
    gateways_server.standin.reset()
    gateways_server.standin.whaticket_saas = saas
    notifier = await notifier_factory()
    address = ReplyAddress(kind=AddressKind.JID, id="5564999990003@s.whatsapp.net")
    cmd = command(provider=Provider.WHATICKET, business_id="whaticket", to=address, conversation_key="w:x:y")
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    [sent] = gateways_server.standin.sent
    assert sent.body == {"number": "5564999990003", "body": "Olá!"}
    assert row.provider_message_id == f"whaticket:{cmd.message_id}" and row.attempts == 1


async def test_whaticket_session_down_is_retried(notifier_factory, gateways_server):
    """ERR_WAPP_NOT_INITIALIZED comes before anything is sent: a retry cannot double the message."""
    standin = gateways_server.standin
    standin.reset()
    standin.fail_next, standin.fail_status, standin.fail_error = 1, 400, "ERR_WAPP_NOT_INITIALIZED"
    notifier = await notifier_factory()
    address = ReplyAddress(kind=AddressKind.WA_ID, id="5564999990004")
    cmd = command(provider=Provider.WHATICKET, business_id="whaticket", to=address, conversation_key="w:x:z")
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "sent")
    assert row.attempts == 2 and len(standin.sent) == 1


async def test_whaticket_cannot_address_a_lid(notifier_factory, gateways_server):
    gateways_server.standin.reset()
    notifier = await notifier_factory()
    address = ReplyAddress(kind=AddressKind.JID, id="123456789012345@lid")
    cmd = command(provider=Provider.WHATICKET, business_id="whaticket", to=address, conversation_key="w:x:l")
    await notifier.publish(cmd)
    row = await notifier.row(cmd.message_id, lambda r: r.status == "failed_permanent")
    assert "phone numbers only" in (row.last_error or "") and gateways_server.standin.sent == []


async def _get(queue, timeout=10):
    async with asyncio.timeout(timeout):
        while (message := await queue.get(fail=False)) is None:  # noqa: ASYNC110 (polling a queue)
            await asyncio.sleep(0.05)
    await message.ack()
    return message
