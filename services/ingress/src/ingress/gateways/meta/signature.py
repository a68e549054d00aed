"""``X-Hub-Signature-256``: HMAC-SHA256 of the raw body with the app secret.

It covers the body only (no timestamp), so replays are a dedupe question, not a signature one.
"""

from __future__ import annotations

import hashlib
import hmac

from ingress.errors import AuthenticationError, ForbiddenError

HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    return _PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> None:
    """Raise ``AuthenticationError`` (missing) or ``ForbiddenError`` (mismatch)."""
    if not header:
        raise AuthenticationError(f"missing {HEADER} header")
    if not hmac.compare_digest(sign(secret, body).encode(), header.strip().encode()):
        raise ForbiddenError(f"{HEADER} does not match the body")
