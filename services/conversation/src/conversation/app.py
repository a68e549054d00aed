"""Wiring of the conversation service."""

from __future__ import annotations

from fastapi import FastAPI

from common.cache import attach_redis
from common.logging import get_logger
from common.rpc import RpcClient
from common.service import ServiceRuntime, create_service_app
from common.sharding import consume_by_lease
from conversation import __version__
from conversation.admin import admin_router
from conversation.config import ConversationSettings
from conversation.engines.factory import build_engine, openai_client
from conversation.engines.offline import OfflineEngine
from conversation.handlers import Outbound, inbox_consumers
from conversation.knowledge import load_event
from conversation.metrics import ConversationMetrics
from conversation.registry import BrokerRegistry
from conversation.service import Conversation
from conversation.sessions import RedisSessions
from conversation.transcription import build_transcriber

SERVICE = "conversation"


def create_app(settings: ConversationSettings) -> FastAPI:
    knowledge = load_event(settings.event_file)  # a broken file stops the service here
    get_logger(__name__).info("event.loaded", event_id=knowledge.event.id, file=str(settings.event_file))
    runtime = ServiceRuntime.build(settings, name=SERVICE, version=__version__)
    redis = attach_redis(runtime, settings.redis_url)
    sessions = RedisSessions(redis, settings.session_ttl_s)
    tracer = runtime.tracer_provider.get_tracer(SERVICE, __version__)
    outbound = Outbound(runtime.broker, settings.publish_timeout_s, tracer)
    rpc = RpcClient(runtime.broker, app_id=SERVICE, tracer=tracer)
    client = openai_client(settings)  # None without OPENAI_API_KEY: the offline engine alone
    if client is not None:
        runtime.on_shutdown.append(client.close)
    offline = OfflineEngine(knowledge)
    conversation = Conversation(
        sessions=sessions,
        knowledge=knowledge,
        engine=build_engine(settings, knowledge, offline, client=client, registry=runtime.registry),
        transcriber=build_transcriber(settings, client),
        registry=BrokerRegistry(runtime.broker, rpc, settings.registry_timeout_s),
        send=outbound.send,
        publish_handoff=outbound.handoff,
        policy=settings.policy,
        metrics=ConversationMetrics(runtime.registry),
    )
    consumers = inbox_consumers(runtime.broker, conversation)
    consume_by_lease(runtime, redis, consumers)  # in order per conversation, shards spread by lease
    app = create_service_app(runtime, description="The dialogue with each WhatsApp user.")
    app.include_router(admin_router(sessions, settings.conversation_admin_token.get_secret_value()))
    return app
