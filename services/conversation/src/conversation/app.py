"""Wiring of the conversation service."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from common.cache import create_redis, redis_check
from common.logging import get_logger
from common.messaging import create_broker
from common.service import ServiceRuntime, create_service_app
from common.telemetry import setup_tracing
from conversation import __version__
from conversation.config import ConversationSettings
from conversation.handlers import register_handlers
from conversation.knowledge import load_event
from conversation.sessions import RedisSessions

SERVICE = "conversation"


def create_app(settings: ConversationSettings) -> FastAPI:
    knowledge = load_event(settings.event_file)
    get_logger(__name__).info("event.loaded", event_id=knowledge.event.id, file=str(settings.event_file))
    tracer_provider = setup_tracing(SERVICE)
    registry = CollectorRegistry()
    broker = create_broker(settings, service=SERVICE, tracer_provider=tracer_provider, registry=registry)
    redis = create_redis(settings.redis_url)
    register_handlers(
        broker,
        sessions=RedisSessions(redis, settings.session_ttl_s),
        knowledge=knowledge,
        publish_timeout_s=settings.publish_timeout_s,
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
    return create_service_app(runtime, description="The dialogue with each WhatsApp user.")
