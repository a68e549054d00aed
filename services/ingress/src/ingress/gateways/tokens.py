"""Shared-token header authentication, for gateways that sign nothing (Evolution, Z-API)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from ingress.errors import AuthenticationError, ForbiddenError
from ingress.gateways.base import Delivery


def verify_token(headers: Mapping[str, str], header: str, expected: str) -> None:
    presented = headers.get(header)
    if not presented:
        raise AuthenticationError(f"missing {header} header")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise ForbiddenError(f"{header} does not match")


@dataclass(frozen=True)
class TokenHeaderAuth:
    """Base of a gateway authenticated by ``token`` in the ``header`` its operator configured."""

    token: str
    header: str = "X-Webhook-Token"

    def authenticate(self, delivery: Delivery) -> None:
        verify_token(delivery.headers, self.header, self.token)
