"""The primary engine (the LLM) behind a circuit breaker, the offline engine behind it.

Whatever goes wrong with the primary — timeout, 429/5xx past the retries, a malformed tool call,
an open circuit — the fallback answers, so the person sees at worst a simpler reply.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

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
        self.fallbacks = Counter(
            "conversation_llm_fallbacks_total",
            "Messages the fallback engine read because the LLM failed or its circuit was open.",
            ["reason"],
            registry=registry if registry is not None else CollectorRegistry(),
        )

    async def interpret(self, text: str, context: EngineContext) -> Understanding:
        try:
            async with await self._breaker.guard():
                return await self._primary.interpret(text, context)
        except CircuitOpen:
            reason = "circuit_open"  # already logged when it opened; no warning per message
        except Exception as exc:  # any failure of the primary is the fallback's cue, never the user's
            reason = str(getattr(exc, "reason", "error"))
            log.warning("engine.fallback", engine=self._primary.name, reason=reason, error=str(exc)[:300])
        self.fallbacks.labels(reason).inc()
        return await self._fallback.interpret(text, context)
