"""Wiring of the ingress service: the only place its parts are built and connected."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from common.cache import create_redis, redis_check
from common.contracts import MessageReceived
from common.messaging import create_broker, publisher
from common.service import ServiceRuntime, create_service_app
from common.telemetry import setup_tracing
from ingress import __version__
from ingress.config import IngressSettings
from ingress.dedupe import RedisDeduplicator
from ingress.http_errors import install_error_handlers
from ingress.meta.api import meta_router

SERVICE = "ingress"


def create_app(settings: IngressSettings) -> FastAPI:
    tracer_provider = setup_tracing(SERVICE)
    registry = CollectorRegistry()
    broker = create_broker(settings, service=SERVICE, tracer_provider=tracer_provider, registry=registry)
    redis = create_redis(settings.redis_url)
    received = publisher(broker, MessageReceived, timeout=settings.publish_timeout_s)

    async def publish(message: MessageReceived) -> None:
        await received.publish(
            message,
            message_id=str(message.message_id),
            correlation_id=str(message.message_id),
        )

    runtime = ServiceRuntime(
        name=SERVICE,
        version=__version__,
        broker=broker,
        registry=registry,
        tracer_provider=tracer_provider,
        readiness_timeout_s=settings.readiness_timeout_s,
        checks={"cache": redis_check(redis)},
        on_startup=[redis.ping],
        on_shutdown=[redis.aclose],
    )
    app = create_service_app(
        runtime,
        routers=[
            meta_router(
                app_secret=settings.meta_app_secret,
                verify_token=settings.meta_verify_token,
                max_body_bytes=settings.max_body_bytes,
                dedupe=RedisDeduplicator(redis, settings.dedupe_ttl_s),
                publish=publish,
            )
        ],
        description="WhatsApp gateway webhooks: verify, de-duplicate, normalise, publish.",
    )
    install_error_handlers(app)
    return app
