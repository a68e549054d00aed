import pytest

from common.contracts import AddressKind, MessageReceived, ReplyAddress, SendWhatsAppMessage
from conversation.knowledge import DEFAULT_EVENT_FILE, load_event
from conversation.service import handle_message
from conversation.sessions import InMemorySessions
from devkit import factories


@pytest.fixture(scope="module")
def knowledge():
    return load_event(DEFAULT_EVENT_FILE)


def inbound(wamid: str = "wamid.1", text: str = "oi") -> MessageReceived:
    return factories.message_received(
        provider_message_id=wamid, business_id="biz", conversation_key="meta:biz:5561999999999", text=text
    )


class Outbox(list[SendWhatsAppMessage]):
    async def __call__(self, command: SendWhatsAppMessage) -> None:
        self.append(command)


async def test_first_message_gets_a_greeting_to_the_sender(knowledge):
    sessions, sent = InMemorySessions(), Outbox()
    assert await handle_message(inbound(), sessions, knowledge, sent) == 1
    [command] = sent
    assert command.to == ReplyAddress(kind=AddressKind.WA_ID, id="5561999999999")
    assert command.content.body.startswith("Olá, Ana!")
    assert knowledge.event.name in command.content.body
    assert command.message_id == SendWhatsAppMessage.id_for_reply("wamid.1", 0)
    session = sessions.items["meta:biz:5561999999999"]
    assert session.message_count == 1
    assert session.display_name == "Ana Souza"


async def test_redelivered_message_is_not_answered_twice(knowledge):
    sessions, sent = InMemorySessions(), Outbox()
    await handle_message(inbound("wamid.1"), sessions, knowledge, sent)
    assert await handle_message(inbound("wamid.1"), sessions, knowledge, sent) == 0
    assert len(sent) == 1


async def test_crash_before_session_save_resends_the_same_command(knowledge):
    sessions, sent = InMemorySessions(), Outbox()

    class Crashing(InMemorySessions):
        async def save(self, session):
            raise ConnectionError("redis went away")

    with pytest.raises(ConnectionError):
        await handle_message(inbound("wamid.7"), Crashing(), knowledge, sent)
    await handle_message(inbound("wamid.7"), sessions, knowledge, sent)
    assert len(sent) == 2
    assert sent[0].message_id == sent[1].message_id  # the notifier sends it once


async def test_second_message_is_welcomed_back(knowledge):
    sessions, sent = InMemorySessions(), Outbox()
    await handle_message(inbound("wamid.1"), sessions, knowledge, sent)
    await handle_message(inbound("wamid.2"), sessions, knowledge, sent)
    assert "de novo" in sent[1].content.body
    assert sessions.items["meta:biz:5561999999999"].message_count == 2
