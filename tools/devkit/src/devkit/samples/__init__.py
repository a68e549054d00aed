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
    payload: dict[str, Any] = json.loads(load("meta_text.json"))
    payload = copy.deepcopy(payload)
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0].update(wa_id=wa_id, profile={"name": name})
    value["messages"][0].update(
        {"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "text": {"body": text}}
    )
    return json.dumps(payload, ensure_ascii=False).encode()
