import json
from datetime import UTC, datetime

from common.contracts import AddressKind, MessageKind, Provider
from devkit import samples
from ingress.meta.normalize import normalise
from ingress.meta.payload import Webhook


def parse(raw: bytes | dict) -> Webhook:
    return Webhook.model_validate(json.loads(raw) if isinstance(raw, bytes) else raw)


def test_text_sample_becomes_one_normalised_message():
    result = normalise(parse(samples.load("meta_text.json")))
    assert result.statuses == 0
    assert result.ignored == []
    [message] = result.messages
    assert message.provider is Provider.META
    assert message.provider_message_id == "wamid.xyzxyz"
    assert message.business_id == "1122334455667"
    assert message.reply_to.kind is AddressKind.WA_ID
    assert message.reply_to.id == "972987654321"
    assert message.conversation_key == "meta:1122334455667:972987654321"
    assert message.display_name == "Test Name"
    assert message.phone == "+972987654321"
    assert message.sent_at == datetime.fromtimestamp(1697043223, UTC)
    assert message.kind is MessageKind.TEXT
    assert message.text == "Body Text"


def test_status_receipt_is_never_a_message():
    result = normalise(parse(samples.load("meta_status_sent.json")))
    assert result.messages == []
    assert result.statuses == 1


def test_every_entry_and_change_is_read():
    payload = json.loads(samples.load("meta_text.json"))
    entry = payload["entry"][0]
    second_change = json.loads(json.dumps(entry["changes"][0]))
    second_change["value"]["messages"][0]["id"] = "wamid.second"
    third_entry = json.loads(json.dumps(entry))
    third_entry["changes"][0]["value"]["messages"][0]["id"] = "wamid.third"
    entry["changes"].append(second_change)
    payload["entry"].append(third_entry)
    ids = [m.provider_message_id for m in normalise(parse(payload)).messages]
    assert ids == ["wamid.xyzxyz", "wamid.second", "wamid.third"]


def test_username_only_user_is_answered_by_business_scoped_id():
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15551230000", "phone_number_id": "biz-phone"},
            "contacts": [{"profile": {"name": "Julian", "username": "Julianzlc"},
                          "user_id": "CO.1047385771169864"}],
            "messages": [{"from_user_id": "CO.1047385771169864", "id": "wamid.username-only",
                          "timestamp": "1784232425", "type": "text", "text": {"body": "Hello"}}],
        }}]}],
    }  # fmt: skip
    [message] = normalise(parse(payload)).messages
    assert message.reply_to.kind is AddressKind.BSUID
    assert message.reply_to.id == "CO.1047385771169864"
    assert message.phone is None
    assert message.display_name == "Julian"


def test_other_objects_and_fields_are_ignored_with_a_reason():
    assert normalise(parse({"object": "page", "entry": []})).ignored == ["object=page"]
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {}}]}]}  # fmt: skip
    result = normalise(parse(payload))
    assert result.messages == []
    assert result.ignored == ["field=account_update"]


def test_unknown_message_type_is_kept_as_unsupported():
    payload = json.loads(samples.load("meta_text.json"))
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message["type"] = "hologram"
    [normalised] = normalise(parse(payload)).messages
    assert normalised.kind is MessageKind.UNSUPPORTED
    assert normalised.text is None
