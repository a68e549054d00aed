"""Wiring of the ingress service: the only place its parts are built and connected."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from common.contracts import (
    Contract,
    HumanActivityDetected,
    MessageReceived,
    MessageStatusChanged,
    WebhookParked,
)
from common.messaging import ConfirmedPublisher, publisher
from common.service import ServiceRuntime, broker_check, create_service_app
from ingress import __version__
from ingress.admission import RedisAdmission
from ingress.config import IngressSettings
from ingress.gateways.base import Gateway
from ingress.gateways.evolution import EvolutionGateway
from ingress.gateways.evolution.amqp import declare_dead_letters, evolution_source
from ingress.gateways.meta import MetaGateway
from ingress.gateways.meta.api import meta_router
from ingress.gateways.whaticket import WhaticketGateway
from ingress.gateways.zapi import ZapiGateway
from ingress.http_errors import install_error_handlers
from ingress.metrics import IngressMetrics
from ingress.resp import PipelinedRedis
from ingress.service import Intake
from ingress.webhooks import HotWebhook, gateway_router

SERVICE = "ingress"
# Longer than one publish with its confirm: a claim left by a crashed ingress frees itself by then.
DEDUPE_CLAIM_TTL_S = 60


def create_app(settings: IngressSettings) -> FastAPI:
    # Ingress counts its own events (ingress_events_total); FastStream's per-publish histograms
    # would cost ~15 % of its CPU on the webhook hot path.
    runtime = ServiceRuntime.build(settings, name=SERVICE, version=__version__, broker_metrics=False)
    redis = attach_pipelined_redis(runtime, settings.redis_url)
    published: tuple[type[Contract], ...] = (
        MessageReceived,
        MessageStatusChanged,
        HumanActivityDetected,
        WebhookParked,
    )
    for contract in published:  # declared for AsyncAPI; the messages go through ConfirmedPublisher
        publisher(runtime.broker, contract, timeout=settings.publish_timeout_s)
    tracer = runtime.tracer_provider.get_tracer(SERVICE, __version__)
    # No PRODUCER span per message (≈ 10 % of ingress's CPU): the consumers continue the webhook's
    # server span instead, so the trace still runs end to end; the broker's confirm time is inside
    # the server span's duration rather than a span of its own.
    publish = ConfirmedPublisher(
        runtime.broker,
        app_id=SERVICE,
        timeout=settings.publish_timeout_s,
        tracer=tracer,
        producer_span=False,
    ).publish
    admission = RedisAdmission(
        redis,
        prefix="ingress:seen:",
        claim_ttl_s=DEDUPE_CLAIM_TTL_S,
        done_ttl_s=settings.dedupe_ttl_s,
        rate_burst=settings.rate_limit_burst,
        rate_per_minute=settings.rate_limit_per_minute,
    )
    intake = Intake(admission=admission, publish=publish, metrics=IngressMetrics(runtime.registry))
    if settings.evolution_amqp_url:
        evolution = evolution_source(settings, intake, runtime.tracer_provider)

        async def start_evolution() -> None:
            await evolution.connect()
            await declare_dead_letters(evolution, settings.evolution_amqp_queue)
            await evolution.start()

        runtime.on_startup.append(start_evolution)
        runtime.on_stopping.append(evolution.stop)  # stop taking events before our broker stops
        runtime.checks["evolution_broker"] = broker_check(evolution)
        runtime.sources.append(evolution)
    runtime.on_stopping.append(admission.drain)  # after every source stopped taking events
    meta = MetaGateway(app_secret=settings.meta_app_secret)
    others = other_gateways(settings, intake)
    # Each gateway's POST /webhooks/<provider> is also served as a hot route: the same pipeline and
    # answers, without FastAPI's per-request cost (the documented route stays, for OpenAPI).
    hot_routes: dict[tuple[str, str], ASGIApp] = {}
    for gateway in (meta, *(g for g, _ in others)):
        route = f"/webhooks/{gateway.provider.value}"
        hot_routes["POST", route] = HotWebhook(
            gateway, intake=intake, max_body_bytes=settings.max_body_bytes, tracer=tracer, route=route
        )
    app = create_service_app(
        runtime,
        routers=[
            meta_router(
                gateway=meta,
                verify_token=settings.meta_verify_token,
                intake=intake,
                max_body_bytes=settings.max_body_bytes,
            ),
            *(router for _, router in others),
        ],
        description="WhatsApp gateway webhooks: verify, de-duplicate, normalise, publish.",
        hot_routes=hot_routes,
    )
    install_error_handlers(app)
    return app


def attach_pipelined_redis(runtime: ServiceRuntime, url: str) -> PipelinedRedis:
    """Ingress's Redis: one pipelined connection (``ingress.resp``, lighter per command than
    redis-py's pool), checked for readiness, pinged at start, closed at stop."""
    client = PipelinedRedis(url)

    async def ping() -> None:
        await client.execute("PING")

    runtime.checks["cache"] = ping
    runtime.on_startup.append(ping)
    runtime.on_shutdown.append(client.aclose)
    return client


def other_gateways(settings: IngressSettings, intake: Intake) -> list[tuple[Gateway, APIRouter]]:
    """Every gateway whose credentials are configured, with its routes."""
    routers: list[tuple[Gateway, APIRouter]] = []
    limit = settings.max_body_bytes
    if settings.evolution_webhook_token:
        evolution = EvolutionGateway(settings.evolution_webhook_token, settings.evolution_webhook_header)
        routers.append(
            (
                evolution,
                gateway_router(
                    evolution,
                    intake=intake,
                    max_body_bytes=limit,
                    summary=f"Evolution API events (messages.upsert/update), token in {evolution.header}",
                    paths=("", "/{event}"),  # /{event}: Evolution's webhookByEvents, e.g. /messages-upsert
                ),
            )
        )
    if settings.zapi_webhook_token:
        zapi = ZapiGateway(settings.zapi_webhook_token, settings.zapi_webhook_header)
        summary = f"Z-API callbacks (ReceivedCallback, MessageStatusCallback), token in {zapi.header}"
        routers.append((zapi, gateway_router(zapi, intake=intake, max_body_bytes=limit, summary=summary)))
    if settings.whaticket_secret:
        whaticket = WhaticketGateway(
            settings.whaticket_secret, settings.whaticket_webhook_token, settings.whaticket_window_s
        )
        summary = "Whaticket messages, X-Signature = HMAC-SHA256 of '<X-Timestamp>.<body>'"
        routers.append(
            (whaticket, gateway_router(whaticket, intake=intake, max_body_bytes=limit, summary=summary))
        )
    return routers
