"""OpenTelemetry tracing, set up once per process.

Spans always exist (their ids go into every log line and travel on to the next service); they are
recorded and exported only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces-specific variant) is
set, using the standard ``OTEL_*`` variables for everything else. Without an exporter every span is
sampled out: it keeps its ids but records nothing, which costs a third of a recorded span
(measured: 110 → 43 µs for a server span and a producer span) on every message of every service.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Span, SpanKind, StatusCode

_provider: TracerProvider | None = None


def exporter_configured() -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def setup_tracing(service: str) -> TracerProvider:
    """Install the process-wide tracer provider (idempotent: a process has one)."""
    global _provider
    if _provider is not None:
        return _provider
    _provider = tracer_provider(service)
    trace.set_tracer_provider(_provider)
    return _provider


def tracer_provider(service: str) -> TracerProvider:
    """A provider that exports over OTLP when configured, and records nothing when not."""
    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service)})
    exporting = exporter_configured()
    # With an exporter the sampler is the standard one (OTEL_TRACES_SAMPLER, parent-based by default).
    provider = TracerProvider(resource=resource, sampler=None if exporting else ALWAYS_OFF)
    if exporting:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def shutdown_tracing() -> None:
    """Flush spans still buffered; called once on process exit."""
    if _provider is not None:
        _provider.shutdown()


@contextmanager
def server_span(
    tracer: trace.Tracer, scope: Mapping[str, Any], headers: Mapping[str, str], route: str
) -> Iterator[Span]:
    """The server span of one HTTP request served outside FastAPI (a hot route), made current.

    The same span FastAPI's own telemetry opens: it continues the caller's ``traceparent``, is named
    ``METHOD route`` and carries the HTTP semantic-convention attributes. The caller sets
    ``http.response.status_code`` (``answered``); a 5xx or an exception marks the span failed.
    """
    method = scope["method"]
    attributes: dict[str, Any] = {
        "url.scheme": scope.get("scheme", "http"),
        "http.request.method": method,
        "url.path": scope["path"],
        "http.route": route,
    }
    if scope.get("http_version"):
        attributes["network.protocol.version"] = scope["http_version"]
    server = scope.get("server")
    if server:
        attributes["server.address"], attributes["server.port"] = server[0], server[1]
    span = tracer.start_span(
        f"{method} {route}",
        context=propagate.extract(headers),
        kind=SpanKind.SERVER,
        attributes=attributes,
    )
    try:
        with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
            yield span
    except BaseException as exc:
        span.set_attribute("error.type", type(exc).__qualname__)
        span.set_status(StatusCode.ERROR)
        raise
    finally:
        span.end()


def answered(span: Span, status: int) -> None:
    """Record the HTTP status a hot route answered on its server span."""
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_attribute("error.type", str(status))
        span.set_status(StatusCode.ERROR)
