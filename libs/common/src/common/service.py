"""The HTTP frame every service shares: lifespan, /healthz, /readyz, /metrics, tracing.

A service's ``create_app`` builds its clients and handlers, then hands them to ``create_service_app``;
this is the only place a broker is started and stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from faststream.rabbit import RabbitBroker
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from common import heap
from common.logging import get_logger
from common.messaging import create_broker, declare_topology
from common.settings import ServiceSettings
from common.telemetry import setup_tracing

ReadinessCheck = Callable[[], Awaitable[object]]
Hook = Callable[[], Awaitable[object]]

log = get_logger(__name__)


@dataclass
class ServiceRuntime:
    """What a service hands to the shared frame."""

    name: str
    version: str
    broker: RabbitBroker
    registry: CollectorRegistry
    tracer_provider: TracerProvider
    readiness_timeout_s: float
    checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    # Other brokers the service consumes from (a gateway's own output): listed in AsyncAPI.
    sources: list[RabbitBroker] = field(default_factory=list)
    # Describes the queues the lean consumers take (common.consumers) in AsyncAPI; never started.
    described: RabbitBroker = field(default_factory=lambda: RabbitBroker(description="lean consumers"))
    on_startup: list[Hook] = field(default_factory=list)  # after the broker connects
    on_started: list[Hook] = field(default_factory=list)  # after subscribers start
    on_stopping: list[Hook] = field(default_factory=list)  # before the broker stops
    on_shutdown: list[Hook] = field(default_factory=list)  # after the broker stops

    @classmethod
    def build(
        cls, settings: ServiceSettings, *, name: str, version: str, broker_metrics: bool = True
    ) -> ServiceRuntime:
        """Tracing, a metrics registry and a broker for service ``name``; add checks and hooks after."""
        tracer_provider = setup_tracing(name)
        registry = CollectorRegistry()
        return cls(
            name=name,
            version=version,
            broker=create_broker(
                settings,
                service=name,
                tracer_provider=tracer_provider,
                registry=registry,
                broker_metrics=broker_metrics,
            ),
            registry=registry,
            tracer_provider=tracer_provider,
            readiness_timeout_s=settings.readiness_timeout_s,
            described=RabbitBroker(settings.amqp_url, description=f"congress-bot {name}"),
        )


class CheckResult(BaseModel):
    ok: bool
    latency_ms: float
    error: str | None = None


class Readiness(BaseModel):
    status: str
    checks: dict[str, CheckResult]


class Liveness(BaseModel):
    status: str
    service: str
    version: str


async def _run_check(check: ReadinessCheck, timeout: float) -> CheckResult:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await check()
    except Exception as exc:  # a failing dependency is a result here, not an error
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return CheckResult(ok=False, latency_ms=_ms_since(started), error=error)
    return CheckResult(ok=True, latency_ms=_ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def broker_check(broker: RabbitBroker) -> ReadinessCheck:
    async def check() -> None:
        if not await broker.ping(timeout=1.0):
            raise ConnectionError("broker connection is down")

    return check


def _ops_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])
    checks = {"broker": broker_check(runtime.broker), **runtime.checks}

    @router.get("/healthz", response_model=Liveness, summary="The process is alive")
    async def healthz() -> Liveness:
        return Liveness(status="ok", service=runtime.name, version=runtime.version)

    @router.get(
        "/readyz",
        response_model=Readiness,
        summary="Broker, database and cache answer, with latency",
        responses={503: {"model": Readiness, "description": "A dependency does not answer"}},
    )
    async def readyz() -> Any:
        names = list(checks)
        results = await asyncio.gather(*(_run_check(checks[n], runtime.readiness_timeout_s) for n in names))
        body = Readiness(
            status="ready" if all(r.ok for r in results) else "not_ready",
            checks=dict(zip(names, results, strict=True)),
        )
        code = 200 if body.status == "ready" else 503
        return JSONResponse(body.model_dump(mode="json"), status_code=code)

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
    )
    async def metrics() -> Response:
        return Response(generate_latest(runtime.registry), media_type=CONTENT_TYPE_LATEST)

    return router


class ServiceApp(FastAPI):
    """FastAPI, plus *hot routes*: ``(method, path)`` pairs answered by a bare ASGI app.

    A hot route skips FastAPI's per-request machinery (middleware stack, routing, dependency
    solving, response validation, its telemetry), which costs more than the work of a webhook. It is
    still declared as an ordinary route, so the OpenAPI document is unchanged; the hot app must keep
    the route's documented answers and open its own server span (``common.telemetry.server_span``).
    """

    def __init__(self, *, hot_routes: Mapping[tuple[str, str], ASGIApp] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hot_routes = dict(hot_routes or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hot = self.hot_routes.get((scope["method"], scope["path"]))
            if hot is not None:
                await hot(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_service_app(
    runtime: ServiceRuntime,
    *,
    routers: Sequence[APIRouter] = (),
    description: str = "",
    hot_routes: Mapping[tuple[str, str], ASGIApp] | None = None,
) -> ServiceApp:
    """A FastAPI app that runs the service's broker for its lifetime.

    Start-up connects the broker (refusing to start if it is unreachable), declares the topology,
    starts subscribers; shutdown (uvicorn on SIGTERM) stops consuming, lets in-flight handlers finish
    within the graceful timeout, then closes clients. ``hot_routes`` see ``ServiceApp``.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.broker.connect()
        await declare_topology(runtime.broker)
        for hook in runtime.on_startup:
            await hook()
        await runtime.broker.start()
        for hook in runtime.on_started:
            await hook()
        heap.settle_if_armed()  # a service process: what start-up built lives as long as it does
        log.info("service.started", version=runtime.version)
        try:
            yield
        finally:
            log.info("service.stopping")
            for hook in runtime.on_stopping:
                await hook()
            await runtime.broker.stop()
            for hook in runtime.on_shutdown:
                await hook()
            log.info("service.stopped")

    app = ServiceApp(
        hot_routes=hot_routes,
        title=f"congress-bot {runtime.name}",
        version=runtime.version,
        description=description,
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry support: one server span per request, continuing an incoming
        # traceparent. No per-operation spans (costly on a hot webhook), no OTel metrics or logs
        # (Prometheus and our JSON logs cover those), and no spans for probes and scrapes.
        telemetry={
            "tracer_provider": runtime.tracer_provider,
            "tracing": True,
            "operation_spans": False,
            "metrics": False,
            "logs": False,
            "exclude": _is_operational_path,
        },
    )
    app.state.runtime = runtime  # for tools that document the service (AsyncAPI)
    app.include_router(_ops_router(runtime))
    for router in routers:
        app.include_router(router)
    return app


_OPERATIONAL_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _is_operational_path(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in _OPERATIONAL_PATHS
