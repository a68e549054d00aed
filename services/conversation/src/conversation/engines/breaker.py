"""A circuit breaker for the LLM, on ``purgatory``.

Why purgatory: it is asyncio-native (an ``async with`` guard), typed, and its state can later move
to Redis (``AsyncRedisUnitOfWork``) so replicas share it. ``aiobreaker`` has had no release since
2021 and ``pybreaker`` is synchronous (its async path needs Tornado). This wrapper keeps purgatory
behind three calls, so the library stays replaceable.

Semantics: ``threshold`` consecutive failures open the circuit; while open, ``guard`` raises
``CircuitOpen`` at once; after ``reset_after_s`` the next calls go through (half-open) and the first
outcome closes or re-opens it. State is per process (in memory).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from purgatory import AsyncCircuitBreakerFactory, ContextChanged, Event
from purgatory.domain.model import OpenedState
from purgatory.service._async.circuitbreaker import AsyncCircuitBreaker

from common.logging import get_logger

log = get_logger(__name__)

CircuitOpen = OpenedState  # what ``guard`` raises while the circuit is open

State = Literal["opened", "closed", "half-opened"]


class CircuitBreaker:
    def __init__(self, *, threshold: int, reset_after_s: float, name: str = "llm") -> None:
        self.name = name
        self.on_change: Callable[[str], None] | None = None  # e.g. a gauge of the state
        self._factory = AsyncCircuitBreakerFactory(default_threshold=threshold, default_ttl=reset_after_s)
        self._factory.add_listener(self._on_event)

    async def guard(self) -> AsyncCircuitBreaker:
        """``async with await breaker.guard(): ...``: counts the block's outcome, raises when open."""
        return await self._factory.get_breaker(self.name)

    async def state(self) -> State:
        return (await self.guard()).context.state

    def _on_event(self, circuit: str, kind: str, event: Event) -> None:
        if kind == "state_changed" and isinstance(event, ContextChanged):
            log.warning("engine.circuit_changed", circuit=circuit, state=event.state)
            if self.on_change is not None:
                self.on_change(event.state)
