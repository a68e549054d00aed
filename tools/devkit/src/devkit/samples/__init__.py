"""Real gateway payloads (from ../shared/webhook_samples.md) and builders of variants of them."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from importlib import resources
from typing import Any


def load(name: str) -> bytes:
    """The sample's exact bytes (signatures are computed over bytes, not re-serialised JSON)."""
    return resources.files(__package__).joinpath(name).read_bytes()


def meta_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def meta_text(text: str, *, wamid: str, wa_id: str = "972987654321", name: str = "Test Name") -> bytes:
    """The text-message sample with another text, message id and sender."""
    return meta_message({"type": "text", "text": {"body": text}}, wamid=wamid, wa_id=wa_id, name=name)


def meta_button_reply(option_id: str, title: str, *, wamid: str, wa_id: str = "972987654321") -> bytes:
    """The user tapped a reply button we sent."""
    interactive = {"type": "button_reply", "button_reply": {"id": option_id, "title": title}}
    return meta_message({"type": "interactive", "interactive": interactive}, wamid=wamid, wa_id=wa_id)


def meta_media(kind: str, *, wamid: str, wa_id: str = "972987654321", voice: bool = False) -> bytes:
    """An audio/sticker/image message with a media id (fetched from Graph, never inlined)."""
    media: dict[str, Any] = {"id": f"media.{wamid}", "mime_type": "audio/ogg; codecs=opus", "sha256": "x"}
    if voice:
        media["voice"] = True
    return meta_message({"type": kind, kind: media}, wamid=wamid, wa_id=wa_id)


def meta_message(content: dict[str, Any], *, wamid: str, wa_id: str, name: str = "Test Name") -> bytes:
    """The text-message sample with its message replaced by ``content`` (type and its object)."""
    payload: dict[str, Any] = copy.deepcopy(json.loads(load("meta_text.json")))
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0].update(wa_id=wa_id, profile={"name": name})
    value["messages"][0] = {"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), **content}
    return json.dumps(payload, ensure_ascii=False).encode()


def meta_status(
    status: str, *, wamid: str, recipient: str, tracker: str | None = None, at: int | None = None
) -> bytes:
    """The status sample (a receipt of a message we sent) for ``wamid``, echoing ``tracker`` as
    ``biz_opaque_callback_data`` the way Meta echoes what the send carried."""
    payload: dict[str, Any] = copy.deepcopy(json.loads(load("meta_status_sent.json")))
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = recipient
    receipt = value["statuses"][0]
    receipt.update(id=wamid, status=status, recipient_id=recipient, timestamp=str(at or int(time.time())))
    if tracker is not None:
        receipt["biz_opaque_callback_data"] = tracker
    return json.dumps(payload, ensure_ascii=False).encode()
