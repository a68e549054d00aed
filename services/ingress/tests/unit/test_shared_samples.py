"""Every inbound webhook sample of ../shared/webhook_samples.md, verbatim, through its adapter.

``shared_samples.json`` holds them keyed by their heading there (the BSUID message was a TypeScript
literal, written here as JSON; the two Evolution issue payloads were cut off by their reporters and
are closed with the fields the issue names). Samples that are fragments there (``messages[]`` or
``statuses[]`` only) are wrapped in a Meta envelope. Send-side samples (Graph API requests, WAHA,
Chatwoot, Rasa) are not webhooks ingress receives.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from common.contracts import (
    AddressKind,
    DeliveryStatus,
    MessageKind,
    MessageReceived,
    MessageStatusChanged,
)
from ingress.gateways.base import Delivery, Gateway, Normalised
from ingress.gateways.evolution import EvolutionGateway
from ingress.gateways.meta import MetaGateway
from ingress.gateways.zapi import ZapiGateway

SAMPLES: dict[str, Any] = json.loads((Path(__file__).parent / "shared_samples.json").read_text())


def sample(prefix: str) -> Any:
    [key] = [k for k in SAMPLES if k.startswith(prefix)]
    return SAMPLES[key]


def meta_envelope(field: str, parts: list[dict]) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": "Test Name"}, "wa_id": "972987654321"}],
        field: parts,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def run(gateway: Gateway, payload: Any) -> Normalised:
    return gateway.normalise(payload, Delivery(headers={}, body=json.dumps(payload).encode()))


def one(gateway: Gateway, payload: Any) -> Any:
    result = run(gateway, payload)
    assert result.unrecognised == [] and result.ignored == []
    [event] = result.events
    return event


META = MetaGateway(app_secret="s")


def meta_message(prefix: str) -> MessageReceived:
    payload = sample(prefix)
    event = one(META, payload if isinstance(payload, dict) else meta_envelope("messages", payload))
    assert isinstance(event, MessageReceived)
    return event


def meta_status(prefix: str) -> MessageStatusChanged:
    payload = sample(prefix)
    if "entry" not in payload:  # a statuses[] fragment, or one status
        payload = meta_envelope("statuses", payload if isinstance(payload, list) else [payload])
    event = one(META, payload)
    assert isinstance(event, MessageStatusChanged)
    return event


def test_every_sample_here_is_used():
    assert len(SAMPLES) == 16


def test_meta_text():
    m = meta_message("Meta — inbound text message")
    assert (m.kind, m.text, m.provider_message_id) == (MessageKind.TEXT, "Body Text", "wamid.xyzxyz")
    assert (m.reply_to.kind, m.reply_to.id, m.phone) == (AddressKind.WA_ID, "972987654321", "+972987654321")


def test_meta_image_and_voice_note_are_references():
    image = meta_message("Meta — inbound image")
    assert image.kind is MessageKind.IMAGE and image.media is not None and image.media.id == "65463453"
    voice = meta_message("Meta — inbound voice note")
    assert voice.kind is MessageKind.AUDIO and voice.media is not None and voice.media.voice is True


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("Meta — interactive reply-button click", MessageKind.INTERACTIVE),
        ("Meta — template quick-reply button click", MessageKind.BUTTON),
        ("Meta — list selection", MessageKind.INTERACTIVE),
        ("Meta — WhatsApp Flow completion", MessageKind.INTERACTIVE),
    ],
)
def test_meta_choices_carry_what_was_chosen(prefix, kind):
    m = meta_message(prefix)
    assert m.kind is kind
    assert m.interactive is not None and (m.interactive.id or m.interactive.data)
    assert m.context is not None and m.context.message_id  # each answers a message of ours


def test_meta_system_message():
    assert meta_message("Meta — system message").kind is MessageKind.SYSTEM


def test_meta_username_only_user_is_answered_by_business_scoped_id():
    m = meta_message("Meta — BSUID / username-only user")
    assert (m.reply_to.kind, m.reply_to.id, m.phone) == (AddressKind.BSUID, "CO.1047385771169864", None)


@pytest.mark.parametrize(
    ("prefix", "status"),
    [
        ("Meta — status `sent`", DeliveryStatus.SENT),
        ("Meta — status `failed`", DeliveryStatus.FAILED),
        ("Meta — status with `biz_opaque_callback_data`", DeliveryStatus.SENT),
        ("Meta — BSUID status", DeliveryStatus.FAILED),
    ],
)
def test_meta_statuses_are_delivery_statuses(prefix, status):
    assert meta_status(prefix).status is status


def test_meta_tracker_and_errors_are_kept():
    assert meta_status("Meta — status with `biz_opaque_callback_data`").tracker
    assert meta_status("Meta — status `failed`").errors


def test_zapi_received_callback():
    m = one(ZapiGateway(token="t"), sample("4.1"))
    assert (m.kind, m.text, m.phone) == (
        MessageKind.TEXT,
        "Olá, gostaria de saber mais sobre o produto",
        "+5511988888888",
    )


def test_evolution_upsert_from_a_lid_user():
    m = one(EvolutionGateway(token="t"), sample("2.2 Evolution messages.upsert, issue #1764"))
    assert (m.text, m.display_name, m.reply_to.id) == (
        "Vou pensar e retorno. Muito obrigada por enquanto!",
        "Helô Lucarello",
        "103899771998284@lid",
    )


def test_evolution_upsert_without_a_message_id_is_parked_not_published():
    # Nothing to dedupe it on: parked with the reason (200 to Evolution, a person looks at it).
    result = run(EvolutionGateway(token="t"), sample("2.2 Evolution messages.upsert, issue #2466"))
    assert result.events == []
    assert len(result.unrecognised) == 1 and "provider_message_id" in result.unrecognised[0]
