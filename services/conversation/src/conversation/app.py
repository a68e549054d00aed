"""Wiring of the conversation service."""

from __future__ import annotations

from fastapi import FastAPI

from common.cache import attach_redis
from common.logging import get_logger
from common.service import ServiceRuntime, create_service_app
from conversation import __version__
from conversation.admin import admin_router
from conversation.config import ConversationSettings
from conversation.engines.offline import OfflineEngine
from conversation.handlers import Outbound, register_handlers
from conversation.knowledge import load_event
from conversation.registry import BrokerRegistry
from conversation.service import Conversation
from conversation.sessions import RedisSessions

SERVICE = "conversation"


def create_app(settings: ConversationSettings) -> FastAPI:
    knowledge = load_event(settings.event_file)  # a broken file stops the service here
    get_logger(__name__).info("event.loaded", event_id=knowledge.event.id, file=str(settings.event_file))
    runtime = ServiceRuntime.build(settings, name=SERVICE, version=__version__)
    redis = attach_redis(runtime, settings.redis_url)
    sessions = RedisSessions(redis, settings.session_ttl_s)
    outbound = Outbound(runtime.broker, settings.publish_timeout_s)
    conversation = Conversation(
        sessions=sessions,
        knowledge=knowledge,
        engine=OfflineEngine(knowledge),
        registry=BrokerRegistry(runtime.broker, settings.registry_timeout_s),
        send=outbound.send,
        publish_handoff=outbound.handoff,
        policy=settings.policy,
    )
    register_handlers(runtime.broker, conversation)
    app = create_service_app(runtime, description="The dialogue with each WhatsApp user.")
    app.include_router(admin_router(sessions, settings.conversation_admin_token.get_secret_value()))
    return app
