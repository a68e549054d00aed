"""Shared-token header authentication, for gateways that sign nothing (Evolution, Z-API)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from ingress.errors import AuthenticationError, ForbiddenError


def verify_token(headers: Mapping[str, str], header: str, expected: str) -> None:
    presented = headers.get(header)
    if not presented:
        raise AuthenticationError(f"missing {header} header")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise ForbiddenError(f"{header} does not match")
