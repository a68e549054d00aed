"""Z-API (Brazilian hosted gateway): webhooks authenticated by a configured token header."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.contracts import Provider
from ingress.gateways.base import Delivery, Normalised
from ingress.gateways.tokens import TokenHeaderAuth
from ingress.gateways.zapi import normalize


@dataclass(frozen=True)
class ZapiGateway(TokenHeaderAuth):
    provider: Provider = field(default=Provider.ZAPI, init=False)

    def normalise(self, payload: Any, delivery: Delivery) -> Normalised:
        return normalize.normalise(payload)
