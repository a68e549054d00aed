"""Meta WhatsApp Cloud API webhook: GET handshake, POST signed notifications."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ValidationError

from common.idempotency import Claims
from common.logging import get_logger
from ingress.body import parse_json, read_body
from ingress.errors import ForbiddenError, MalformedPayload
from ingress.meta import signature
from ingress.meta.normalize import normalise
from ingress.meta.payload import Webhook
from ingress.service import Publish, accept

log = get_logger(__name__)


class WebhookAck(BaseModel):
    published: int
    duplicates: int
    statuses: int
    ignored: int


def meta_router(
    *, app_secret: str, verify_token: str, max_body_bytes: int, dedupe: Claims, publish: Publish
) -> APIRouter:
    router = APIRouter(prefix="/webhooks/meta", tags=["meta"])

    @router.get(
        "",
        response_class=PlainTextResponse,
        summary="Subscription handshake: echo hub.challenge when hub.verify_token matches",
        responses={400: {"description": "Not a subscribe request"}, 403: {"description": "Wrong token"}},
    )
    async def verify(
        mode: Annotated[str | None, Query(alias="hub.mode")] = None,
        token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
        challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
    ) -> PlainTextResponse:
        if mode != "subscribe" or token is None or challenge is None:
            raise MalformedPayload("expected hub.mode=subscribe, hub.verify_token and hub.challenge")
        if not hmac.compare_digest(token.encode(), verify_token.encode()):
            raise ForbiddenError("hub.verify_token does not match")
        return PlainTextResponse(challenge)

    @router.post(
        "",
        response_model=WebhookAck,
        summary="Notifications (messages and statuses), signed with X-Hub-Signature-256",
        responses={
            400: {"description": "Body is not JSON"},
            401: {"description": "Signature header missing"},
            403: {"description": "Signature does not match the body"},
            413: {"description": "Body too large"},
            503: {"description": "Not confirmed by the broker; retry later"},
        },
    )
    async def notify(request: Request) -> WebhookAck:
        body = await read_body(request, max_body_bytes)
        signature.verify(app_secret, body, request.headers.get(signature.HEADER))
        raw = parse_json(body)
        try:
            webhook = Webhook.model_validate(raw)
        except ValidationError as exc:
            # Signed, so it is Meta's; retrying will not change it. Answer 200 so it stops.
            log.warning("webhook.unrecognised", provider="meta", errors=exc.error_count())
            return WebhookAck(published=0, duplicates=0, statuses=0, ignored=1)
        normalised = normalise(webhook)
        for reason in normalised.ignored:
            log.info("webhook.part_ignored", provider="meta", reason=reason)
        accepted = await accept(normalised.messages, dedupe, publish)
        return WebhookAck(
            published=accepted.published,
            duplicates=accepted.duplicates,
            statuses=normalised.statuses,
            ignored=len(normalised.ignored),
        )

    return router
