"""Wiring of the conversation service."""

from __future__ import annotations

from fastapi import FastAPI

from common.cache import attach_redis
from common.logging import get_logger
from common.service import ServiceRuntime, create_service_app
from conversation import __version__
from conversation.config import ConversationSettings
from conversation.handlers import register_handlers
from conversation.knowledge import load_event
from conversation.sessions import RedisSessions

SERVICE = "conversation"


def create_app(settings: ConversationSettings) -> FastAPI:
    knowledge = load_event(settings.event_file)  # a broken file stops the service here
    get_logger(__name__).info("event.loaded", event_id=knowledge.event.id, file=str(settings.event_file))
    runtime = ServiceRuntime.build(settings, name=SERVICE, version=__version__)
    redis = attach_redis(runtime, settings.redis_url)
    register_handlers(
        runtime.broker,
        sessions=RedisSessions(redis, settings.session_ttl_s),
        knowledge=knowledge,
        publish_timeout_s=settings.publish_timeout_s,
    )
    return create_service_app(runtime, description="The dialogue with each WhatsApp user.")
