import json

import pytest

from common.contracts import (
    AddressKind,
    DeliveryStatus,
    HumanActivityDetected,
    MessageKind,
    MessageReceived,
    MessageStatusChanged,
    Provider,
)
from devkit import samples
from ingress.gateways.meta.normalize import normalise


def envelope(*, messages=(), statuses=(), field="messages", contacts=None, echoes=()) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1122334455667"},
        "contacts": contacts
        if contacts is not None
        else [{"profile": {"name": "Test Name"}, "wa_id": "972987654321"}],
    }
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    if echoes:
        value["message_echoes"] = list(echoes)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": field, "value": value}]}],
    }


def one_message(message: dict) -> MessageReceived:
    result = normalise(envelope(messages=[message]))
    assert result.unrecognised == []
    [event] = result.events
    assert isinstance(event, MessageReceived)
    return event


def base(type_: str, **part) -> dict:
    return {"from": "972987654321", "id": f"wamid.{type_}", "timestamp": "1697043379", "type": type_, **part}


def test_text_sample_becomes_one_normalised_message():
    result = normalise(json.loads(samples.load("meta_text.json")))
    assert result.ignored == result.unrecognised == []
    [message] = result.events
    assert isinstance(message, MessageReceived)
    assert message.provider is Provider.META
    assert message.provider_message_id == "wamid.xyzxyz"
    assert message.business_id == "1122334455667"
    assert message.reply_to.kind is AddressKind.WA_ID
    assert message.reply_to.id == "972987654321"
    assert message.conversation_key == "meta:1122334455667:972987654321"
    assert message.display_name == "Test Name"
    assert message.phone == "+972987654321"
    assert message.sent_at.timestamp() == 1697043223
    assert message.kind is MessageKind.TEXT
    assert message.text == "Body Text"


def test_status_receipt_is_a_delivery_status_never_a_message():
    result = normalise(json.loads(samples.load("meta_status_sent.json")))
    [status] = result.events
    assert isinstance(status, MessageStatusChanged)
    assert status.status is DeliveryStatus.SENT
    assert status.provider_message_id == "wamid.xyzxyz"
    assert status.recipient is not None and status.recipient.id == "972987654321"
    assert status.conversation_key == "meta:1122334455667:972987654321"


def test_failed_status_keeps_errors_and_tracker():
    failed = {
        "id": "wamid.xyzxyz", "status": "failed", "timestamp": "1689380458", "recipient_id": "972987654321",
        "biz_opaque_callback_data": "cmd-123",
        "errors": [{"code": 130472, "title": "User's number is part of an experiment",
                    "message": "User's number is part of an experiment",
                    "error_data": {"details": "Failed to send message because this user's phone number is part of an experiment"},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}],
    }  # fmt: skip
    [status] = normalise(envelope(statuses=[failed])).events
    assert isinstance(status, MessageStatusChanged)
    assert status.status is DeliveryStatus.FAILED
    assert status.tracker == "cmd-123"
    assert status.errors[0].code == 130472
    assert "experiment" in (status.errors[0].details or "")


def test_username_only_status_uses_the_business_scoped_id():
    status = {
        "id": "wamid.username-only-failed", "status": "failed", "timestamp": "1784232500",
        "recipient_user_id": "CO.1047385771169864", "recipient_parent_user_id": "CA.2086157822334836",
        "errors": [{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
                    "error_data": {"details": "The recipient could not receive this message"}}],
    }  # fmt: skip
    [event] = normalise(envelope(statuses=[status])).events
    assert event.recipient.kind is AddressKind.BSUID


@pytest.mark.parametrize("status", ["sent", "delivered", "read", "played", "failed", "deleted", "warning"])
def test_every_status_value_is_kept(status):
    [event] = normalise(envelope(statuses=[{"id": "w", "status": status, "timestamp": "1"}])).events
    assert event.status.value == (status if status != "warning" else "unknown")


def test_every_entry_and_change_is_read():
    payload = json.loads(samples.load("meta_text.json"))
    entry = payload["entry"][0]
    second_change = json.loads(json.dumps(entry["changes"][0]))
    second_change["value"]["messages"][0]["id"] = "wamid.second"
    third_entry = json.loads(json.dumps(entry))
    third_entry["changes"][0]["value"]["messages"][0]["id"] = "wamid.third"
    entry["changes"].append(second_change)
    payload["entry"].append(third_entry)
    ids = [m.provider_message_id for m in normalise(payload).events]
    assert ids == ["wamid.xyzxyz", "wamid.second", "wamid.third"]


def test_username_only_user_is_answered_by_business_scoped_id():
    message = one_message(
        {
            "from_user_id": "CO.1047385771169864",
            "id": "wamid.username-only",
            "timestamp": "1784232425",
            "type": "text",
            "text": {"body": "Hello"},
        }
    )
    assert message.reply_to.kind is AddressKind.BSUID
    assert message.reply_to.id == "CO.1047385771169864"
    assert message.phone is None


def test_image_is_a_media_reference_with_its_caption():
    message = one_message(base("image", image={"mime_type": "image/jpeg", "sha256": "4654+8g=", "id": "65463453",
                                               "caption": "meu comprovante"}))  # fmt: skip
    assert message.kind is MessageKind.IMAGE
    assert message.media is not None
    assert (message.media.id, message.media.mime_type, message.media.sha256) == (
        "65463453",
        "image/jpeg",
        "4654+8g=",
    )
    assert message.text == "meu comprovante"


def test_voice_note_is_audio_flagged_voice():
    message = one_message(base("audio", audio={"mime_type": "audio/ogg; codecs=opus", "sha256": "m04p=",
                                               "id": "1234567890987654321", "voice": True}))  # fmt: skip
    assert message.kind is MessageKind.AUDIO
    assert message.media is not None and message.media.voice


@pytest.mark.parametrize(
    ("kind", "part"),
    [
        ("video", {"id": "v1", "mime_type": "video/mp4"}),
        ("document", {"id": "d1", "mime_type": "application/pdf", "filename": "boleto.pdf"}),
        ("sticker", {"id": "s1", "mime_type": "image/webp", "animated": False}),
    ],
)
def test_other_media_are_references(kind, part):
    message = one_message(base(kind, **{kind: part}))
    assert message.kind.value == kind
    assert message.media is not None and message.media.id == part["id"]


def test_reply_button_click_carries_id_title_and_context():
    message = one_message(
        base("interactive", context={"from": "1122334455667", "id": "wamid.question"},
             interactive={"type": "button_reply", "button_reply": {"id": "callback_data", "title": "title"}})
    )  # fmt: skip
    assert message.kind is MessageKind.INTERACTIVE
    assert message.interactive is not None
    assert (message.interactive.kind, message.interactive.id, message.interactive.title) == (
        "button_reply", "callback_data", "title")  # fmt: skip
    assert message.text == "title"
    assert message.context is not None and message.context.message_id == "wamid.question"


def test_list_selection_and_template_quick_reply():
    listed = one_message(
        base(
            "interactive", interactive={"type": "list_reply", "list_reply": {"id": "uf:GO", "title": "Goiás"}}
        )
    )
    quick = one_message(base("button", button={"payload": "callback_data", "text": "title"}))
    assert (listed.interactive.kind, listed.interactive.id) == ("list_reply", "uf:GO")
    assert (quick.kind, quick.interactive.kind, quick.interactive.id) == (
        MessageKind.BUTTON,
        "button",
        "callback_data",
    )


def test_flow_completion_response_json_is_parsed():
    message = one_message(
        base("interactive", interactive={"type": "nfm_reply", "nfm_reply": {
            "response_json": '{"flow_token":"AQAAAAACS5FpgQ_cAAAAAD0QI3s.","cs_rating":"0"}', "body": "Sent", "name": "flow"}})
    )  # fmt: skip
    assert message.interactive.data == {"flow_token": "AQAAAAACS5FpgQ_cAAAAAD0QI3s.", "cs_rating": "0"}


def test_location_reaction_contacts_and_forwarded_context():
    location = one_message(
        base("location", location={"latitude": -17.79, "longitude": -50.92, "name": "Rio Verde"})
    )
    reaction = one_message(base("reaction", reaction={"message_id": "wamid.ours", "emoji": "👍"}))
    contacts = one_message(base("contacts", contacts=[{"name": {"formatted_name": "Zé"},
                                                       "phones": [{"phone": "+55 64 90000-0001"}]}]))  # fmt: skip
    forwarded = one_message(base("text", text={"body": "olha"}, context={"forwarded": True}))
    assert (location.location.latitude, location.location.name) == (-17.79, "Rio Verde")
    assert (reaction.reaction.message_id, reaction.reaction.emoji) == ("wamid.ours", "👍")
    assert contacts.contacts[0].name == "Zé" and contacts.contacts[0].phones == ["+55 64 90000-0001"]
    assert forwarded.context.forwarded and forwarded.context.message_id is None


def test_system_order_and_unknown_types():
    system = one_message(
        base("system", system={"body": "User A changed from 1 to 2", "type": "user_changed_number"})
    )
    order = one_message(base("order", order={"catalog_id": "c", "text": "2 ingressos", "product_items": []}))
    unknown = one_message(base("hologram"))
    unsupported = one_message(base("unsupported", errors=[{"code": 131051, "title": "Message type unknown"}]))
    assert (system.kind, system.text) == (MessageKind.SYSTEM, "User A changed from 1 to 2")
    assert (order.kind, order.text) == (MessageKind.ORDER, "2 ingressos")
    assert unknown.kind is unsupported.kind is MessageKind.UNSUPPORTED


def test_business_app_echo_is_human_activity_not_a_user_message():
    echo = {"from": "15550001111", "to": "972987654321", "id": "wamid.echo", "timestamp": "1700000000",
            "type": "text", "text": {"body": "Oi, aqui é a Joana da organização"}}  # fmt: skip
    [event] = normalise(envelope(field="smb_message_echoes", echoes=[echo])).events
    assert isinstance(event, HumanActivityDetected)
    assert event.conversation_key == "meta:1122334455667:972987654321"
    assert event.text == "Oi, aqui é a Joana da organização"


def test_other_fields_are_ignored_with_a_reason():
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": "1", "changes": [{"field": "message_template_status_update", "value": {"event": "APPROVED"}}]}]}  # fmt: skip
    result = normalise(payload)
    assert result.events == [] and result.unrecognised == []
    assert result.ignored == ["field=message_template_status_update"]


@pytest.mark.parametrize(
    "payload",
    [
        {"unexpected": True},
        {"object": "page", "entry": []},
        [1, 2, 3],
        "text",
        {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"messages": [{"id": "x"}]}}]}]},
    ],
)  # fmt: skip
def test_what_is_not_understood_is_reported_not_raised(payload):
    result = normalise(payload)
    assert result.events == []
    assert result.unrecognised


def test_one_bad_message_does_not_cost_the_good_one():
    good = base("text", text={"body": "oi"})
    bad = {"id": "wamid.bad", "type": "text"}  # no timestamp
    result = normalise(envelope(messages=[bad, good]))
    assert [e.provider_message_id for e in result.events] == ["wamid.text"]
    assert len(result.unrecognised) == 1 and "message" in result.unrecognised[0]
