"""Wiring of the ingress service: the only place its parts are built and connected."""

from __future__ import annotations

from fastapi import FastAPI

from common.cache import attach_redis
from common.contracts import (
    Contract,
    HumanActivityDetected,
    MessageReceived,
    MessageStatusChanged,
    WebhookParked,
)
from common.idempotency import RedisClaims
from common.messaging import publisher
from common.service import ServiceRuntime, create_service_app
from ingress import __version__
from ingress.config import IngressSettings
from ingress.gateways.meta import MetaGateway
from ingress.gateways.meta.api import meta_router
from ingress.http_errors import install_error_handlers
from ingress.metrics import IngressMetrics
from ingress.service import Intake

SERVICE = "ingress"
# Longer than one publish with its confirm: a claim left by a crashed ingress frees itself by then.
DEDUPE_CLAIM_TTL_S = 60


def create_app(settings: IngressSettings) -> FastAPI:
    runtime = ServiceRuntime.build(settings, name=SERVICE, version=__version__)
    redis = attach_redis(runtime, settings.redis_url)
    published: tuple[type[Contract], ...] = (
        MessageReceived,
        MessageStatusChanged,
        HumanActivityDetected,
        WebhookParked,
    )
    publishers = {
        contract: publisher(runtime.broker, contract, timeout=settings.publish_timeout_s)
        for contract in published
    }

    async def publish(event: Contract) -> None:
        await publishers[type(event)].publish(
            event, message_id=str(event.message_id), correlation_id=str(event.message_id)
        )

    intake = Intake(
        dedupe=RedisClaims(
            redis, prefix="ingress:seen:", claim_ttl_s=DEDUPE_CLAIM_TTL_S, done_ttl_s=settings.dedupe_ttl_s
        ),
        publish=publish,
        metrics=IngressMetrics(runtime.registry),
    )
    app = create_service_app(
        runtime,
        routers=[
            meta_router(
                gateway=MetaGateway(app_secret=settings.meta_app_secret),
                verify_token=settings.meta_verify_token,
                intake=intake,
                max_body_bytes=settings.max_body_bytes,
            )
        ],
        description="WhatsApp gateway webhooks: verify, de-duplicate, normalise, publish.",
    )
    install_error_handlers(app)
    return app
