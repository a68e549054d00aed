"""Meta WhatsApp Cloud API webhook routes: GET handshake, POST signed notifications."""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from ingress.errors import ForbiddenError
from ingress.gateways.meta import MetaGateway
from ingress.service import Intake
from ingress.webhooks import add_webhook_route


def meta_router(*, gateway: MetaGateway, verify_token: str, intake: Intake, max_body_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/webhooks/meta", tags=["meta"])

    @router.get(
        "",
        response_class=PlainTextResponse,
        summary="Subscription handshake: echo hub.challenge when hub.verify_token matches",
        responses={403: {"description": "Wrong token"}},
    )
    async def verify(
        mode: Annotated[Literal["subscribe"], Query(alias="hub.mode")],
        token: Annotated[str, Query(alias="hub.verify_token")],
        challenge: Annotated[str, Query(alias="hub.challenge")],
    ) -> PlainTextResponse:
        # A missing parameter or another mode is answered 422 with the reason, by FastAPI.
        if not hmac.compare_digest(token.encode(), verify_token.encode()):
            raise ForbiddenError("hub.verify_token does not match")
        return PlainTextResponse(challenge)

    add_webhook_route(
        router,
        "",
        gateway,
        intake=intake,
        max_body_bytes=max_body_bytes,
        summary="Notifications (messages, statuses, echoes), signed with X-Hub-Signature-256",
    )
    return router
