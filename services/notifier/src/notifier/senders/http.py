"""One pooled HTTP session shared by the senders (``start``/``close`` in the lifespan)."""

from __future__ import annotations

from typing import Any

import aiohttp
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from opentelemetry.trace import TracerProvider

from notifier.errors import SendFailed


class HttpPool:
    def __init__(self, *, timeout_s: float, tracer_provider: TracerProvider | None = None) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._tracer_provider = tracer_provider
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # The trace config carries `traceparent` to the provider and records a client span.
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            trace_configs=[create_trace_config(tracer_provider=self._tracer_provider)],
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(
        self, url: str, payload: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, str | None, Any]:
        """POST JSON; (status, Retry-After, decoded body). Unreachable or timed out: retryable."""
        if self._session is None:
            raise RuntimeError("HttpPool.start() was not called")
        try:
            async with self._session.post(url, json=payload, headers=headers) as response:
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                return response.status, response.headers.get("Retry-After"), body
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendFailed(f"{url.split('/')[2]} unreachable: {exc!r}", retryable=True) from exc
