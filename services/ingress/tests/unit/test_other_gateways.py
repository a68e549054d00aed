"""Evolution API, Z-API and Whaticket adapters: auth and normalisation (samples from
../shared/webhook_samples.md and seed 004)."""

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
from ingress.errors import AuthenticationError, ForbiddenError
from ingress.gateways.base import Delivery
from ingress.gateways.evolution import EvolutionGateway
from ingress.gateways.whaticket import WhaticketGateway, sign
from ingress.gateways.zapi import ZapiGateway

EVOLUTION = EvolutionGateway(token="evo-token")
ZAPI = ZapiGateway(token="zapi-token")
NOW = 1_700_000_000.0
WHATICKET = WhaticketGateway(secret="minha-shared-secret", clock=lambda: NOW)


def normalise(gateway, payload, headers=None):
    body = json.dumps(payload).encode()
    return gateway.normalise(payload, Delivery(headers=headers or {}, body=body))


# --- Evolution ---------------------------------------------------------------------------------

ISSUE_1764 = {
    "event": "messages.upsert",
    "instance": "Whatsapp",
    "data": {
        "key": {"remoteJid": "103899771998284@lid", "fromMe": False, "id": "XXXXXXXXXXX"},
        "pushName": "Helô Lucarello",
        "status": "DELIVERY_ACK",
        "message": {
            "conversation": "Vou pensar e retorno. Muito obrigada por enquanto!",
            "messageContextInfo": {"deviceListMetadata": {"senderTimestamp": "1753614857"}},
        },
        "messageType": "conversation",
        "messageTimestamp": 1753614857,
    },
}


def upsert(message: dict, **key) -> dict:
    return {
        "event": "messages.upsert",
        "instance": "congresso",
        "data": {
            "key": {"remoteJid": "5564900000001@s.whatsapp.net", "fromMe": False, "id": "3EB0AA", **key},
            "pushName": "Maria",
            "message": message,
            "messageTimestamp": 1773027345,
            "source": "android",
        },
        "sender": "5564900009999@s.whatsapp.net",
    }


def test_evolution_text_from_a_lid_user_replies_to_the_lid():
    [event] = normalise(EVOLUTION, ISSUE_1764).events
    assert isinstance(event, MessageReceived)
    assert event.provider is Provider.EVOLUTION
    assert event.text == "Vou pensar e retorno. Muito obrigada por enquanto!"
    assert event.reply_to.kind is AddressKind.JID
    assert event.reply_to.id == "103899771998284@lid"
    assert event.phone is None  # an @lid alone says nothing about the phone
    assert event.conversation_key == "evolution:Whatsapp:103899771998284@lid"
    assert event.display_name == "Helô Lucarello"


def test_evolution_lid_with_the_phone_in_remote_jid_alt_or_sender_pn():
    alt = normalise(
        EVOLUTION,
        upsert({"conversation": "oi"}, remoteJid="123@lid", remoteJidAlt="5564900000001@s.whatsapp.net"),
    )
    pn = normalise(
        EVOLUTION,
        upsert({"conversation": "oi"}, remoteJid="123@lid", senderPn="5564900000001@s.whatsapp.net"),
    )
    for result in (alt, pn):
        [event] = result.events
        assert event.phone == "+5564900000001"
        assert event.reply_to.id == "123@lid"
        assert event.conversation_key == "evolution:congresso:123@lid"


def test_evolution_extended_text_media_and_choices():
    extended = normalise(EVOLUTION, upsert({"extendedTextMessage": {"text": "link https://x"}})).events[0]
    voice = normalise(
        EVOLUTION,
        upsert({"audioMessage": {"mimetype": "audio/ogg; codecs=opus", "ptt": True, "url": "https://mmg/x"}}),
    ).events[0]
    image = normalise(
        EVOLUTION,
        upsert(
            {
                "imageMessage": {"mimetype": "image/jpeg", "caption": "comprovante"},
                "mediaUrl": "https://s3/x.jpg",
            }
        ),
    ).events[0]
    listed = normalise(
        EVOLUTION,
        upsert({"listResponseMessage": {"title": "Goiás", "singleSelectReply": {"selectedRowId": "uf:GO"}}}),
    ).events[0]
    assert (extended.kind, extended.text) == (MessageKind.TEXT, "link https://x")
    assert voice.kind is MessageKind.AUDIO and voice.media.voice and voice.media.url == "https://mmg/x"
    assert image.text == "comprovante" and image.media.url == "https://s3/x.jpg"
    assert (listed.interactive.id, listed.text) == ("uf:GO", "Goiás")


def test_evolution_from_me_is_human_activity_never_a_user_message():
    [event] = normalise(EVOLUTION, upsert({"conversation": "Oi, sou a Joana"}, fromMe=True)).events
    assert isinstance(event, HumanActivityDetected)
    assert event.conversation_key == "evolution:congresso:5564900000001@s.whatsapp.net"


def test_evolution_groups_and_other_events_are_ignored():
    group = normalise(EVOLUTION, upsert({"conversation": "oi"}, remoteJid="120363@g.us"))
    other = normalise(
        EVOLUTION, {"event": "connection.update", "instance": "congresso", "data": {"state": "open"}}
    )
    assert group.events == [] and group.ignored
    assert other.events == [] and other.ignored == ["event=connection.update"]


def test_evolution_update_is_a_delivery_status():
    update = {
        "event": "messages.update",
        "instance": "congresso",
        "data": {
            "keyId": "3EB0FF",
            "remoteJid": "5564900000001@s.whatsapp.net",
            "fromMe": True,
            "status": "READ",
        },
    }
    [event] = normalise(EVOLUTION, update).events
    assert isinstance(event, MessageStatusChanged)
    assert (event.provider_message_id, event.status) == ("3EB0FF", DeliveryStatus.READ)


def test_evolution_auth_by_token_header():
    body = b"{}"
    EVOLUTION.authenticate(Delivery(headers={"X-Webhook-Token": "evo-token"}, body=body))
    with pytest.raises(AuthenticationError):
        EVOLUTION.authenticate(Delivery(headers={}, body=body))
    with pytest.raises(ForbiddenError):
        EVOLUTION.authenticate(Delivery(headers={"X-Webhook-Token": "nope"}, body=body))


# --- Z-API -------------------------------------------------------------------------------------

ZAPI_RECEIVED = {
    "instanceId": "SUA_INSTANCE_ID", "messageId": "3EB0B430B6F8C1D073A0", "phone": "5511988888888",
    "fromMe": False, "momment": 1677234567000, "status": "RECEIVED", "chatName": "João Silva",
    "senderPhoto": "https://pps.whatsapp.net/...", "senderName": "João Silva", "participantPhone": None,
    "photo": "https://pps.whatsapp.net/...", "broadcast": False, "type": "ReceivedCallback",
    "text": {"message": "Olá, gostaria de saber mais sobre o produto"},
}  # fmt: skip


def test_zapi_received_callback_sample():
    [event] = normalise(ZAPI, ZAPI_RECEIVED).events
    assert isinstance(event, MessageReceived)
    assert event.text == "Olá, gostaria de saber mais sobre o produto"
    assert event.phone == "+5511988888888"
    assert event.display_name == "João Silva"
    assert event.sent_at.timestamp() == 1677234567
    assert event.conversation_key == "zapi:SUA_INSTANCE_ID:5511988888888"


def test_zapi_chat_lid_is_the_stable_conversation_key():
    [event] = normalise(
        ZAPI, ZAPI_RECEIVED | {"chatLid": "999999999999999@lid", "phone": "554499999999"}
    ).events
    assert event.conversation_key == "zapi:SUA_INSTANCE_ID:999999999999999@lid"
    [lid_only] = normalise(
        ZAPI, ZAPI_RECEIVED | {"chatLid": "65998849469@lid", "phone": "65998849469@lid"}
    ).events
    assert lid_only.phone is None
    assert lid_only.reply_to.id == "65998849469@lid"


def test_zapi_from_me_typed_on_the_phone_is_human_activity_from_api_is_ours():
    [human] = normalise(ZAPI, ZAPI_RECEIVED | {"fromMe": True, "fromApi": False}).events
    ours = normalise(ZAPI, ZAPI_RECEIVED | {"fromMe": True, "fromApi": True})
    assert isinstance(human, HumanActivityDetected)
    assert ours.events == [] and ours.ignored == ["our own send (fromApi)"]


def test_zapi_status_callback_covers_every_id():
    status = {"type": "MessageStatusCallback", "instanceId": "i", "status": "READ", "ids": ["a", "b"],
              "momment": 1677234567000, "phone": "5511988888888"}  # fmt: skip
    events = normalise(ZAPI, status).events
    assert [(e.provider_message_id, e.status) for e in events] == [
        ("a", DeliveryStatus.READ),
        ("b", DeliveryStatus.READ),
    ]


# --- Whaticket ---------------------------------------------------------------------------------


def whaticket_headers(
    body: bytes, timestamp: float = NOW, secret: str = "minha-shared-secret"
) -> dict[str, str]:
    ts = str(int(timestamp))
    return {"X-Timestamp": ts, "X-Signature": sign(secret, ts, body)}


def test_whaticket_signature_matches_the_seed_recipe():
    import hashlib
    import hmac

    body = b'{"message": {"conversation": "ol\\u00e1"}, "number": "5511999999999"}'
    expected = hmac.new(b"minha-shared-secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("minha-shared-secret", "1700000000", body) == expected
    WHATICKET.authenticate(Delivery(headers=whaticket_headers(body), body=body))


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, AuthenticationError),
        ({"X-Timestamp": "1700000000"}, AuthenticationError),
        ({"X-Timestamp": "1700000000", "X-Signature": "00"}, ForbiddenError),
    ],
)
def test_whaticket_rejects_missing_or_wrong_signatures(headers, error):
    with pytest.raises(error):
        WHATICKET.authenticate(Delivery(headers=headers, body=b"{}"))


@pytest.mark.parametrize("skew", [-301, 301, 10_000])
def test_whaticket_rejects_outside_the_replay_window(skew):
    body = b"{}"
    with pytest.raises(ForbiddenError, match="window"):
        WHATICKET.authenticate(Delivery(headers=whaticket_headers(body, NOW + skew), body=body))


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_whaticket_accepts_inside_the_window(skew):
    body = b"{}"
    WHATICKET.authenticate(Delivery(headers=whaticket_headers(body, NOW + skew), body=body))


def test_whaticket_optional_token_is_checked_when_configured():
    gateway = WhaticketGateway(secret="s", token="t", clock=lambda: NOW)
    body = b"{}"
    headers = whaticket_headers(body, secret="s")
    with pytest.raises(AuthenticationError):
        gateway.authenticate(Delivery(headers=headers, body=body))
    gateway.authenticate(Delivery(headers=headers | {"X-Webhook-Token": "t"}, body=body))


def test_whaticket_seed_payloads():
    text = normalise(
        WHATICKET, {"message": {"conversation": "olá"}, "number": "5511999999999"}, {"X-Timestamp": "1"}
    )
    button = normalise(WHATICKET, {"message": {"buttonsResponseMessage": {"selectedDisplayText": "Quero falar com suporte"}},
                                   "ticket": {"contact": {"number": "5511988877766"}}})  # fmt: skip
    invalid = normalise(WHATICKET, {"message": {"conversation": "olá"}})
    [t] = text.events
    [b] = button.events
    assert (t.text, t.phone, t.reply_to.id) == ("olá", "+5511999999999", "5511999999999")
    assert (b.kind, b.text, b.phone) == (MessageKind.INTERACTIVE, "Quero falar com suporte", "+5511988877766")
    assert invalid.events == [] and invalid.unrecognised


def test_whaticket_delivery_id_is_stable_for_the_same_signed_delivery():
    payload = {"message": {"conversation": "sim"}, "number": "5511999999999"}
    a = normalise(WHATICKET, payload, {"X-Timestamp": "1700000000"}).events[0]
    b = normalise(WHATICKET, payload, {"X-Timestamp": "1700000000"}).events[0]
    later = normalise(WHATICKET, payload, {"X-Timestamp": "1700000060"}).events[0]
    assert a.provider_message_id == b.provider_message_id != later.provider_message_id
