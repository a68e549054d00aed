"""The senders' read marks over real HTTP against the stand-ins (no broker: the request shapes)."""

from datetime import UTC, datetime, timedelta

import pytest

from common.contracts import AddressKind, MessageKind, Provider, Reaction, ReplyAddress
from devkit import factories, gateway_standin
from notifier.errors import SendFailed
from notifier.senders.gateways import WhaticketSender, ZapiSender
from notifier.senders.http import HttpPool
from notifier.senders.meta import MetaSender

pytestmark = pytest.mark.integration


@pytest.fixture
async def http():
    pool = HttpPool(timeout_s=5)
    await pool.start()
    yield pool
    await pool.close()


def meta(http, graph_server, *, typing_indicator=True):
    return MetaSender(
        http,
        base_url=graph_server.url,
        version="v25.0",
        access_token="test-access-token",
        typing_indicator=typing_indicator,
    )


async def test_meta_typing_only_for_fresh_messages_that_get_an_answer(http, graph_server, graph):
    sender = meta(http, graph_server)
    reaction = Reaction(message_id="wamid.x", emoji="👍")
    events = [
        factories.message_received(provider_message_id="wamid.fresh"),
        factories.message_received(
            provider_message_id="wamid.reaction", kind=MessageKind.REACTION, reaction=reaction
        ),
        factories.message_received(
            provider_message_id="wamid.late", occurred_at=datetime.now(UTC) - timedelta(seconds=30)
        ),
    ]
    for event in events:
        await sender.mark_read(event)
    assert [(r.message_id, r.typing_indicator) for r in graph.reads] == [
        ("wamid.fresh", True),
        ("wamid.reaction", False),
        ("wamid.late", False),
    ]
    assert {r.phone_number_id for r in graph.reads} == {"1122334455667"} and graph.messages == []


async def test_meta_refused_read_mark_raises_for_the_caller_to_count(http, graph_server, graph):
    graph.fail_reads = 1
    with pytest.raises(SendFailed):
        await meta(http, graph_server, typing_indicator=False).mark_read(factories.message_received())
    assert graph.read_attempts == 1 and graph.reads == []


async def test_zapi_read_message_answers_204(http, gateways):
    sender = ZapiSender(
        http,
        base_url=gateways.url,
        instance_token=gateway_standin.ZAPI_INSTANCE_TOKEN,
        client_token=gateway_standin.ZAPI_CLIENT_TOKEN,
    )
    event = factories.message_received(
        provider=Provider.ZAPI,
        business_id="instancia-1",
        reply_to=ReplyAddress(kind=AddressKind.WA_ID, id="65998849469@lid"),
        provider_message_id="3EB0B430B6F8C1D073A0",
    )
    await sender.mark_read(event)
    [read] = gateways.standin.reads
    assert read.body == {"phone": "65998849469@lid", "messageId": "3EB0B430B6F8C1D073A0"}


async def test_whaticket_errors_before_sending_are_retryable_others_final(http, gateways):
    sender = WhaticketSender(http, base_url=gateways.url, api_token=gateway_standin.WHATICKET_TOKEN)
    command = factories.send_whatsapp_message(provider=Provider.WHATICKET)
    gateways.standin.fail_next, gateways.standin.fail_status = 1, 400
    gateways.standin.fail_error = "ERR_WAPP_CHECK_CONTACT"
    with pytest.raises(SendFailed) as before:
        await sender.send(command)
    gateways.standin.fail_next, gateways.standin.fail_error = 1, "ERR_SENDING_WAPP_MSG"
    with pytest.raises(SendFailed) as during:
        await sender.send(command)
    assert before.value.retryable and not during.value.retryable
    bad_token = WhaticketSender(http, base_url=gateways.url, api_token="wrong")
    with pytest.raises(SendFailed) as refused:
        await bad_token.send(command)
    assert "403" in str(refused.value) and not refused.value.retryable
    assert gateways.standin.sent == []
