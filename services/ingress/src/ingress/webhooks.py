"""The one webhook pipeline every gateway route runs: read, authenticate, parse, take in, answer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from opentelemetry.trace import Tracer
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from common.logging import get_logger
from common.telemetry import answered, server_span
from ingress.body import parse_json, read_asgi_body, read_body
from ingress.errors import IngressError, Unavailable
from ingress.gateways.base import Delivery, Gateway, Normalised
from ingress.http_errors import RETRY_AFTER_S
from ingress.service import Intake

log = get_logger(__name__)


class WebhookAck(BaseModel):
    published: int
    duplicates: int
    ignored: int
    parked: int
    rate_limited: int = 0


async def receive(gateway: Gateway, request: Request, *, intake: Intake, max_body_bytes: int) -> WebhookAck:
    return await take_in(gateway, request.headers, read_body(request, max_body_bytes), intake=intake)


async def take_in(
    gateway: Gateway, headers: Mapping[str, str], reading: Awaitable[bytes], *, intake: Intake
) -> WebhookAck:
    """Authentication comes first, on the raw bytes; nothing is published for a rejected request."""
    provider = gateway.provider.value
    try:
        body = await reading
        delivery = Delivery(headers=headers, body=body)
        gateway.authenticate(delivery)
        normalised = _normalise(gateway, parse_json(body), delivery)
        for reason in normalised.ignored:
            log.info("webhook.part_ignored", provider=provider, reason=reason)
        accepted = await intake.accept(normalised.events)
        if normalised.unrecognised:
            # Authenticated, so it is the provider's: answer 200 (a retry would not change it).
            content_type = headers.get("content-type")
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
        rate_limited=accepted.rate_limited,
    )


def _normalise(gateway: Gateway, payload: Any, delivery: Delivery) -> Normalised:
    """Adapters do not raise on bad input; if one ever does, the body is parked, not lost."""
    try:
        return gateway.normalise(payload, delivery)
    except Exception as exc:
        log.exception("adapter.failed", provider=gateway.provider.value)
        return Normalised(unrecognised=[f"adapter error: {exc!r}"[:500]])


class HotWebhook:
    """``POST`` of one gateway's webhook as a bare ASGI app: the same pipeline and answers as the
    documented FastAPI route, without FastAPI's per-request cost (see ``common.service.ServiceApp``).
    """

    def __init__(
        self, gateway: Gateway, *, intake: Intake, max_body_bytes: int, tracer: Tracer, route: str
    ) -> None:
        self._gateway = gateway
        self._intake = intake
        self._limit = max_body_bytes
        self._tracer = tracer
        self._route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        with server_span(self._tracer, scope, headers, self._route) as span:
            extra: list[tuple[bytes, bytes]] = []
            try:
                reading = read_asgi_body(headers, receive, self._limit)
                ack = await take_in(self._gateway, headers, reading, intake=self._intake)
            except ClientDisconnect:
                return  # nobody to answer; nothing was published (the body was never complete)
            except IngressError as exc:
                if isinstance(exc, Unavailable):
                    extra.append((b"retry-after", str(RETRY_AFTER_S).encode()))
                log.info("webhook.rejected", status=exc.status_code, reason=str(exc))
                status, body = exc.status_code, _detail(str(exc))
            else:
                status, body = 200, ack.model_dump_json().encode()
            answered(span, status)
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        *extra,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


def _detail(reason: str) -> bytes:
    return json.dumps({"detail": reason}, ensure_ascii=False, separators=(",", ":")).encode()


REJECTIONS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Body is not JSON"},
    401: {"description": "Credentials missing"},
    403: {"description": "Credentials wrong, or outside the replay window"},
    413: {"description": "Body too large"},
    503: {"description": "Not confirmed by the broker; retry later (Retry-After)"},
}


def add_webhook_route(
    router: APIRouter,
    path: str,
    gateway: Gateway,
    *,
    intake: Intake,
    max_body_bytes: int,
    summary: str,
) -> None:
    """Mount ``POST path`` running the pipeline for ``gateway`` (documented in OpenAPI)."""

    async def notify(request: Request) -> WebhookAck:
        return await receive(gateway, request, intake=intake, max_body_bytes=max_body_bytes)

    async def notify_event(
        request: Request,
        event: Annotated[str, Path(description="The event, as the gateway names it in its URL")],
    ) -> WebhookAck:
        # Documented for the URL's sake; the payload names the event too, and that is what counts.
        return await receive(gateway, request, intake=intake, max_body_bytes=max_body_bytes)

    router.add_api_route(
        path,
        notify_event if "{event}" in path else notify,
        methods=["POST"],
        response_model=WebhookAck,
        summary=summary,
        responses=REJECTIONS,
        name=f"{gateway.provider.value}_webhook{path.replace('/', '_').replace('{', '').replace('}', '')}",
    )


def gateway_router(
    gateway: Gateway,
    *,
    intake: Intake,
    max_body_bytes: int,
    summary: str,
    paths: tuple[str, ...] = ("",),
) -> APIRouter:
    """``POST /webhooks/<provider>`` (and any extra ``paths``) for a gateway with nothing else."""
    router = APIRouter(prefix=f"/webhooks/{gateway.provider.value}", tags=[gateway.provider.value])
    for path in paths:
        add_webhook_route(
            router, path, gateway, intake=intake, max_body_bytes=max_body_bytes, summary=summary
        )
    return router
