"""Meta WhatsApp Cloud API: ``X-Hub-Signature-256`` auth and the webhook payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.contracts import Provider
from ingress.gateways.base import Delivery, Normalised
from ingress.gateways.meta import normalize, signature


@dataclass(frozen=True)
class MetaGateway:
    app_secret: str
    provider: Provider = field(default=Provider.META, init=False)

    def authenticate(self, delivery: Delivery) -> None:
        signature.verify(self.app_secret, delivery.body, delivery.headers.get(signature.HEADER))

    def normalise(self, payload: Any, delivery: Delivery) -> Normalised:
        return normalize.normalise(payload)
