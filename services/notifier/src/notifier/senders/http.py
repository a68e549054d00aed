"""One pooled HTTP session shared by the senders (``start``/``close`` in the lifespan)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import aiohttp
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode, TracerProvider

from notifier.errors import SendFailed


class HttpPool:
    def __init__(self, *, timeout_s: float, tracer_provider: TracerProvider | None = None) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(
        self, url: str, payload: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, str | None, Any]:
        """POST JSON; (status, Retry-After, decoded body). Unreachable or timed out: retryable.

        One CLIENT span per call, carried to the provider in ``traceparent`` (what the OpenTelemetry
        aiohttp instrumentation records, without its per-request signal machinery: a tenth of the
        notifier's CPU under load).
        """
        if self._session is None:
            raise RuntimeError("HttpPool.start() was not called")
        parts = urlsplit(url)
        attributes: dict[str, str | int] = {
            "http.request.method": "POST",
            "url.full": url,
            "server.address": parts.hostname or "",
            "server.port": parts.port or (443 if parts.scheme == "https" else 80),
        }
        with self._tracer.start_as_current_span(
            "POST", kind=SpanKind.CLIENT, attributes=attributes, record_exception=False
        ) as span:
            carried = dict(headers)
            propagate.inject(carried)
            try:
                async with self._session.post(url, json=payload, headers=carried) as response:
                    try:
                        body = await response.json(content_type=None)
                    except ValueError:
                        body = None
            except (aiohttp.ClientError, TimeoutError) as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(StatusCode.ERROR)
                raise SendFailed(f"{parts.netloc} unreachable: {exc!r}", retryable=True) from exc
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 400:
                span.set_attribute("error.type", str(response.status))
                span.set_status(StatusCode.ERROR)
            return response.status, response.headers.get("Retry-After"), body
