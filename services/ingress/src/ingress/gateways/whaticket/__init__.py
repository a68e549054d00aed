"""Whaticket (the scheme in seed 004): HMAC over ``f"{timestamp}.{raw_body}"``, ±300 s window.

``X-Signature = hex(hmac_sha256(secret, f"{X-Timestamp}." + raw_body))``; an optional
``X-Webhook-Token`` is checked too when configured.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.contracts import Provider
from ingress.errors import AuthenticationError, ForbiddenError
from ingress.gateways.base import Delivery, Normalised
from ingress.gateways.tokens import verify_token
from ingress.gateways.whaticket import normalize

TIMESTAMP = "X-Timestamp"
SIGNATURE = "X-Signature"
TOKEN_HEADER = "X-Webhook-Token"  # noqa: S105 (a header name, not a secret)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WhaticketGateway:
    secret: str
    token: str | None = None
    window_s: int = 300
    clock: Callable[[], float] = time.time
    provider: Provider = field(default=Provider.WHATICKET, init=False)

    def authenticate(self, delivery: Delivery) -> None:
        timestamp = delivery.headers.get(TIMESTAMP)
        signature = delivery.headers.get(SIGNATURE)
        if not timestamp or not signature:
            raise AuthenticationError(f"missing {TIMESTAMP} or {SIGNATURE} header")
        expected = sign(self.secret, timestamp, delivery.body)
        if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
            raise ForbiddenError(f"{SIGNATURE} does not match the timestamp and body")
        # Checked after the signature, so the timestamp is the sender's, not an attacker's.
        if not timestamp.isdigit() or abs(self.clock() - int(timestamp)) > self.window_s:
            raise ForbiddenError(f"{TIMESTAMP} outside the ±{self.window_s} s window (replay?)")
        if self.token is not None:
            verify_token(delivery.headers, TOKEN_HEADER, self.token)

    def normalise(self, payload: Any, delivery: Delivery) -> Normalised:
        # No message id in the payload: one signed delivery is one message.
        delivery_id = hashlib.sha256(
            delivery.headers.get(TIMESTAMP, "").encode() + b"." + delivery.body
        ).hexdigest()[:32]
        return normalize.normalise(payload, delivery_id)
