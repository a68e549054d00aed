import pytest

from common.contracts import (
    AddressKind,
    ButtonsContent,
    ListContent,
    ListRow,
    ReplyAddress,
    ReplyButton,
    TemplateContent,
)
from devkit import factories
from notifier.errors import SendFailed
from notifier.senders.base import as_text
from notifier.senders.gateways import whaticket_number
from notifier.senders.meta import content_payload, message_payload


def test_payload_for_phone_user_uses_to_and_carries_our_id():
    command = factories.send_whatsapp_message()
    payload = message_payload(command)
    assert payload["to"] == "5561999999999"
    assert payload["text"] == {"body": "Olá!", "preview_url": False}
    assert payload["biz_opaque_callback_data"] == str(command.message_id)
    assert "recipient" not in payload


def test_payload_for_username_user_uses_recipient():
    payload = message_payload(
        factories.send_whatsapp_message(to=ReplyAddress(kind=AddressKind.BSUID, id="CO.1"))
    )
    assert payload["recipient"] == "CO.1"
    assert "to" not in payload


def test_template_payload():
    payload = content_payload(TemplateContent(name="retomar_conversa", body_parameters=["Ana"]))
    assert payload == {
        "type": "template",
        "template": {
            "name": "retomar_conversa",
            "language": {"code": "pt_BR"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
        },
    }


def test_gateways_get_options_as_a_numbered_text():
    buttons = ButtonsContent(
        body="Confirma?", buttons=[ReplyButton(id="y", title="Sim"), ReplyButton(id="n", title="Não")]
    )
    assert as_text(buttons) == "Confirma?\n\n1. Sim\n2. Não"
    rows = ListContent(
        body="Perfil:", button="Ver", rows=[ListRow(id="p", title="Produtor", description="rural")]
    )
    assert as_text(rows) == "Perfil:\n\n1. Produtor — rural"
    with pytest.raises(SendFailed) as failure:
        as_text(TemplateContent(name="x"))
    assert not failure.value.retryable


def test_send_commands_are_partitioned_by_conversation():
    command = factories.send_whatsapp_message(conversation_key="meta:1:2")
    assert command.partition_key() == "meta:1:2"


@pytest.mark.parametrize(
    ("address", "digits"),
    [("5564999990000", "5564999990000"), ("+5564999990000", "5564999990000"),
     ("5564999990000@s.whatsapp.net", "5564999990000"), ("5564999990000@c.us", "5564999990000")],
)  # fmt: skip
def test_whaticket_gets_the_digits_of_a_phone_or_phone_jid(address, digits):
    assert whaticket_number(address) == digits


@pytest.mark.parametrize("address", ["123456789012345@lid", "1203630@g.us", "55 64 9999"])
def test_whaticket_cannot_address_what_is_not_a_phone(address):
    with pytest.raises(SendFailed) as failure:
        whaticket_number(address)
    assert not failure.value.retryable
