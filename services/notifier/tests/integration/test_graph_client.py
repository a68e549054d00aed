"""The Graph API client over real HTTP against the local stand-in (Meta's protocol)."""

import pytest

from common.contracts import TextContent
from devkit import factories
from notifier.errors import SendFailed
from notifier.graph import GraphClient

pytestmark = pytest.mark.integration


def command():
    return factories.send_whatsapp_message(content=TextContent(body="Inscrição confirmada ✅"))


@pytest.fixture
async def client(graph_api):
    def make(token: str = "test-access-token") -> GraphClient:
        return GraphClient(
            base_url=graph_api.url,
            version="v25.0",
            phone_number_id="1122334455667",
            access_token=token,
            timeout_s=5,
        )

    clients: list[GraphClient] = []

    async def start(token: str = "test-access-token") -> GraphClient:
        c = make(token)
        await c.start()
        clients.append(c)
        return c

    yield start
    for c in clients:
        await c.close()


async def test_send_posts_to_the_phone_number_and_returns_the_wamid(client, graph_api):
    graph = await client()
    cmd = command()
    wamid = await graph.send(cmd)
    assert wamid == "wamid.standin.1"
    [received] = graph_api.standin.messages
    assert received.version == "v25.0"
    assert received.phone_number_id == "1122334455667"
    assert received.authorization == "Bearer test-access-token"
    assert received.body["text"]["body"] == "Inscrição confirmada ✅"
    assert received.body["biz_opaque_callback_data"] == str(cmd.message_id)


async def test_provider_outage_is_retryable(client, graph_api):
    graph_api.standin.fail_next = 1
    with pytest.raises(SendFailed) as failure:
        await (await client()).send(command())
    assert failure.value.retryable


async def test_bad_token_is_not_retryable(client):
    with pytest.raises(SendFailed, match="401") as failure:
        await (await client("wrong-token")).send(command())
    assert not failure.value.retryable


async def test_unreachable_provider_is_retryable():
    graph = GraphClient(
        base_url="http://127.0.0.1:9", version="v25.0", phone_number_id="x", access_token="t", timeout_s=2
    )
    await graph.start()
    try:
        with pytest.raises(SendFailed, match="unreachable") as failure:
            await graph.send(command())
        assert failure.value.retryable
    finally:
        await graph.close()


async def test_a_command_for_another_gateway_is_refused_not_sent_to_meta(client, graph_api):
    from common.contracts import AddressKind, Provider, ReplyAddress

    command_for_evolution = factories.send_whatsapp_message(
        provider=Provider.EVOLUTION, to=ReplyAddress(kind=AddressKind.JID, id="123@lid")
    )
    with pytest.raises(SendFailed, match="evolution") as failure:
        await (await client()).send(command_for_evolution)
    assert not failure.value.retryable
    assert graph_api.standin.messages == []
