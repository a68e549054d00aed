"""Wiring of the notifier service."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from common.cache import create_redis, redis_check
from common.messaging import create_broker
from common.service import ServiceRuntime, create_service_app
from common.telemetry import setup_tracing
from notifier import __version__
from notifier.config import NotifierSettings
from notifier.graph import GraphClient
from notifier.handlers import register_handlers
from notifier.ledger import RedisLedger

SERVICE = "notifier"


def create_app(settings: NotifierSettings) -> FastAPI:
    tracer_provider = setup_tracing(SERVICE)
    registry = CollectorRegistry()
    broker = create_broker(settings, service=SERVICE, tracer_provider=tracer_provider, registry=registry)
    redis = create_redis(settings.redis_url)
    graph = GraphClient(
        base_url=settings.meta_graph_url,
        version=settings.meta_graph_version,
        phone_number_id=settings.meta_phone_number_id,
        access_token=settings.meta_access_token,
        timeout_s=settings.send_timeout_s,
        tracer_provider=tracer_provider,
    )
    register_handlers(
        broker,
        ledger=RedisLedger(redis, settings.sent_ttl_s),
        graph=graph,
        attempts=settings.send_attempts,
        backoff_max_s=settings.send_backoff_max_s,
    )
    runtime = ServiceRuntime(
        name=SERVICE,
        version=__version__,
        broker=broker,
        registry=registry,
        tracer_provider=tracer_provider,
        readiness_timeout_s=settings.readiness_timeout_s,
        checks={"cache": redis_check(redis)},
        on_startup=[redis.ping, graph.start],
        on_shutdown=[graph.close, redis.aclose],
    )
    return create_service_app(runtime, description="Outbound WhatsApp sends, each exactly once.")
