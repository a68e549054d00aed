"""Evolution API v2 (Baileys): webhooks authenticated by a configured token header."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.contracts import Provider
from ingress.gateways.base import Delivery, Normalised
from ingress.gateways.evolution import normalize
from ingress.gateways.tokens import TokenHeaderAuth


@dataclass(frozen=True)
class EvolutionGateway(TokenHeaderAuth):
    provider: Provider = field(default=Provider.EVOLUTION, init=False)

    def normalise(self, payload: Any, delivery: Delivery) -> Normalised:
        return normalize.normalise(payload)
