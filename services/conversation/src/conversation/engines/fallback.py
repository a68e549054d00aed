"""The primary engine (the LLM) behind a circuit breaker, the offline engine behind it.

Whatever goes wrong with the primary — timeout, 429/5xx past the retries, a malformed tool call,
an open circuit — the fallback answers, so the person sees at worst a simpler reply.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from common.logging import get_logger
from conversation.domain.understanding import EngineContext, Understanding
from conversation.engines.base import Engine
from conversation.engines.breaker import CircuitBreaker, CircuitOpen

log = get_logger(__name__)


class FallbackEngine:
    def __init__(
        self,
        primary: Engine,
        fallback: Engine,
        breaker: CircuitBreaker,
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.name = f"{primary.name}+{fallback.name}"
        self._primary = primary
        self._fallback = fallback
        self._breaker = breaker
        registry = registry if registry is not None else CollectorRegistry()
        self.fallbacks = Counter(
            "conversation_llm_fallbacks_total",
            "Messages the fallback engine read because the LLM failed or its circuit was open.",
            ["reason"],
            registry=registry,
        )
        self.latency = Histogram(
            "conversation_llm_seconds",
            "Time the LLM took to read a message (all attempts), by outcome.",
            ["outcome"],
            buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
            registry=registry,
        )
        circuit_open = Gauge(
            "conversation_llm_circuit_open", "1 while the LLM's circuit breaker is open.", registry=registry
        )
        breaker.on_change = lambda state: circuit_open.set(1 if state == "opened" else 0)

    async def interpret(self, text: str, context: EngineContext) -> Understanding:
        started = time.perf_counter()
        try:
            async with await self._breaker.guard():
                understanding = await self._primary.interpret(text, context)
            self.latency.labels("ok").observe(time.perf_counter() - started)
            return understanding
        except CircuitOpen:
            reason = "circuit_open"  # already logged when it opened; no warning per message
        except Exception as exc:  # any failure of the primary is the fallback's cue, never the user's
            reason = str(getattr(exc, "reason", "error"))
            log.warning("engine.fallback", engine=self._primary.name, reason=reason, error=str(exc)[:300])
            self.latency.labels("failed").observe(time.perf_counter() - started)
        self.fallbacks.labels(reason).inc()
        return await self._fallback.interpret(text, context)
