import uuid

import pytest
from pydantic import ValidationError

from common.contracts import AddressKind, MessageReceived, ReplyAddress, SendWhatsAppMessage, TextContent
from common.messaging import CONTRACTS, TOPOLOGY
from devkit import factories


def received() -> MessageReceived:
    return factories.message_received(display_name="Zé da Soja 🌱", text="Olá, quero me inscrever — ação já!")


def send_command() -> SendWhatsAppMessage:
    return factories.send_whatsapp_message(
        message_id=SendWhatsAppMessage.id_for_reply("wamid.abc", 0),
        to=ReplyAddress(kind=AddressKind.BSUID, id="US.1"),
        content=TextContent(body="Olá! 👋"),
        in_reply_to="wamid.abc",
        causation_id=uuid.uuid4(),
    )


@pytest.mark.parametrize("message", [received(), send_command()], ids=lambda m: type(m).__name__)
def test_round_trip_through_json(message):
    raw = message.model_dump_json()
    again = type(message).model_validate_json(raw)
    assert again == message
    assert again.message_id == message.message_id


def test_contracts_are_frozen():
    with pytest.raises(ValidationError):
        received().text = "changed"  # type: ignore[misc]


def test_message_type_carries_version():
    assert MessageReceived.message_type() == "message.received.v1"
    assert SendWhatsAppMessage.message_type() == "whatsapp.send.v1"


def test_reply_ids_are_deterministic_per_cause_and_index():
    a = SendWhatsAppMessage.id_for_reply("wamid.abc", 0)
    assert a == SendWhatsAppMessage.id_for_reply("wamid.abc", 0)
    assert a != SendWhatsAppMessage.id_for_reply("wamid.abc", 1)
    assert a != SendWhatsAppMessage.id_for_reply("wamid.abd", 0)


def test_unknown_fields_from_newer_producers_are_ignored():
    original = received()
    data = original.model_dump(mode="json") | {"added_in_a_later_version": 1}
    assert MessageReceived.model_validate(data) == original


def test_text_content_respects_whatsapp_limit():
    with pytest.raises(ValidationError):
        TextContent(body="x" * 4097)


def test_every_consumer_queue_has_a_dead_letter_queue_and_delivery_limit():
    for consumer_queue in TOPOLOGY:
        args = consumer_queue.queue().arguments or {}
        assert args["x-queue-type"] == "quorum"
        assert args["x-dead-letter-exchange"] == "congress.dlx"
        assert args["x-dead-letter-routing-key"] == consumer_queue.name
        assert args["x-delivery-limit"] > 0
        assert consumer_queue.dead_letter_name == f"{consumer_queue.name}.dlq"
    assert {q.contract for q in TOPOLOGY} <= set(CONTRACTS)
