"""Wiring of the ingress service: the only place its parts are built and connected."""

from __future__ import annotations

from fastapi import FastAPI

from common.cache import attach_redis
from common.contracts import MessageReceived
from common.idempotency import RedisClaims
from common.messaging import publisher
from common.service import ServiceRuntime, create_service_app
from ingress import __version__
from ingress.config import IngressSettings
from ingress.http_errors import install_error_handlers
from ingress.meta.api import meta_router

SERVICE = "ingress"
# Longer than one publish with its confirm: a claim left by a crashed ingress frees itself by then.
DEDUPE_CLAIM_TTL_S = 60


def create_app(settings: IngressSettings) -> FastAPI:
    runtime = ServiceRuntime.build(settings, name=SERVICE, version=__version__)
    redis = attach_redis(runtime, settings.redis_url)
    received = publisher(runtime.broker, MessageReceived, timeout=settings.publish_timeout_s)

    async def publish(message: MessageReceived) -> None:
        await received.publish(
            message, message_id=str(message.message_id), correlation_id=str(message.message_id)
        )

    app = create_service_app(
        runtime,
        routers=[
            meta_router(
                app_secret=settings.meta_app_secret,
                verify_token=settings.meta_verify_token,
                max_body_bytes=settings.max_body_bytes,
                dedupe=RedisClaims(
                    redis,
                    prefix="ingress:seen:",
                    claim_ttl_s=DEDUPE_CLAIM_TTL_S,
                    done_ttl_s=settings.dedupe_ttl_s,
                ),
                publish=publish,
            )
        ],
        description="WhatsApp gateway webhooks: verify, de-duplicate, normalise, publish.",
    )
    install_error_handlers(app)
    return app
