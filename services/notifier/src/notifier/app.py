"""Wiring of the notifier service."""

from __future__ import annotations

from fastapi import FastAPI

from common.cache import attach_redis
from common.idempotency import RedisClaims
from common.service import ServiceRuntime, create_service_app
from notifier import __version__
from notifier.config import NotifierSettings
from notifier.graph import GraphClient
from notifier.handlers import register_handlers

SERVICE = "notifier"
SEND_CLAIM_TTL_S = 300  # longer than every attempt of one send together


def create_app(settings: NotifierSettings) -> FastAPI:
    runtime = ServiceRuntime.build(settings, name=SERVICE, version=__version__)
    redis = attach_redis(runtime, settings.redis_url)
    graph = GraphClient(
        base_url=settings.meta_graph_url,
        version=settings.meta_graph_version,
        phone_number_id=settings.meta_phone_number_id,
        access_token=settings.meta_access_token,
        timeout_s=settings.send_timeout_s,
        tracer_provider=runtime.tracer_provider,
    )
    runtime.on_startup.append(graph.start)  # the HTTP pool exists before the first message
    runtime.on_shutdown.insert(0, graph.close)
    register_handlers(
        runtime.broker,
        ledger=RedisClaims(
            redis, prefix="notifier:send:", claim_ttl_s=SEND_CLAIM_TTL_S, done_ttl_s=settings.sent_ttl_s
        ),
        graph=graph,
        attempts=settings.send_attempts,
        backoff_max_s=settings.send_backoff_max_s,
    )
    return create_service_app(runtime, description="Outbound WhatsApp sends, each exactly once.")
