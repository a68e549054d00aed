"""The one webhook pipeline every gateway route runs: read, authenticate, parse, take in, answer."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel

from common.logging import get_logger
from ingress.body import parse_json, read_body
from ingress.errors import IngressError
from ingress.gateways.base import Gateway
from ingress.service import Intake

log = get_logger(__name__)


class WebhookAck(BaseModel):
    published: int
    duplicates: int
    ignored: int
    parked: int


async def receive(gateway: Gateway, request: Request, *, intake: Intake, max_body_bytes: int) -> WebhookAck:
    """Authentication comes first, on the raw bytes; nothing is published for a rejected request."""
    provider = gateway.provider.value
    try:
        body = await read_body(request, max_body_bytes)
        gateway.authenticate(request.headers, body)
        normalised = gateway.normalise(parse_json(body))
        for reason in normalised.ignored:
            log.info("webhook.part_ignored", provider=provider, reason=reason)
        accepted = await intake.accept(normalised.events)
        if normalised.unrecognised:
            # Authenticated, so it is the provider's: answer 200 (a retry would not change it).
            content_type = request.headers.get("content-type")
            await intake.park(gateway.provider, body, normalised.unrecognised, content_type)
    except IngressError as exc:
        intake.metrics.webhooks.labels(provider, str(exc.status_code)).inc()
        raise
    intake.metrics.webhooks.labels(provider, "200").inc()
    return WebhookAck(
        published=accepted.published,
        duplicates=accepted.duplicates,
        ignored=len(normalised.ignored),
        parked=1 if normalised.unrecognised else 0,
    )
