"""The fallback engine and the circuit breaker, with fake engines (no network)."""

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from conversation.domain.understanding import EngineContext, Expecting, Intent, Understanding
from conversation.engines.breaker import CircuitBreaker
from conversation.engines.fallback import FallbackEngine
from conversation.engines.llm import LlmUnavailable

CONTEXT = EngineContext(expecting=Expecting.MENU)


class FakeEngine:
    def __init__(self, name: str, fail: BaseException | None = None) -> None:
        self.name = name
        self.fail = fail
        self.calls = 0

    async def interpret(self, text: str, context: EngineContext) -> Understanding:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        return Understanding(intent=Intent.GREETING, engine=self.name)


def make(primary, *, threshold=3, reset_after_s=30.0):
    registry = CollectorRegistry()
    offline = FakeEngine("offline")
    breaker = CircuitBreaker(threshold=threshold, reset_after_s=reset_after_s)
    return FallbackEngine(primary, offline, breaker, registry=registry), offline, breaker, registry


async def test_the_primary_answers_when_it_can():
    engine, offline, _, _ = make(FakeEngine("llm"))
    assert (await engine.interpret("oi", CONTEXT)).engine == "llm"
    assert offline.calls == 0


@pytest.mark.parametrize("error", [LlmUnavailable("timeout", "slow"), RuntimeError("bug"), ValueError("x")])
async def test_any_primary_failure_is_answered_by_the_fallback_and_counted(error):
    engine, _, _, registry = make(FakeEngine("llm", fail=error))
    assert (await engine.interpret("oi", CONTEXT)).engine == "offline"
    reason = getattr(error, "reason", "error")
    assert registry.get_sample_value("conversation_llm_fallbacks_total", {"reason": reason}) == 1


async def test_cancellation_is_not_swallowed():
    engine, offline, _, _ = make(FakeEngine("llm", fail=asyncio.CancelledError()))
    with pytest.raises(asyncio.CancelledError):
        await engine.interpret("oi", CONTEXT)
    assert offline.calls == 0


async def test_the_circuit_opens_after_consecutive_failures_and_skips_the_primary():
    primary = FakeEngine("llm", fail=LlmUnavailable("server_error", "500"))
    engine, _, breaker, registry = make(primary, threshold=3)
    for _ in range(5):
        assert (await engine.interpret("oi", CONTEXT)).engine == "offline"
    assert primary.calls == 3
    assert await breaker.state() == "opened"
    assert registry.get_sample_value("conversation_llm_fallbacks_total", {"reason": "circuit_open"}) == 2


async def test_a_success_resets_the_count_of_failures():
    primary = FakeEngine("llm", fail=LlmUnavailable("timeout", "slow"))
    engine, _, breaker, _ = make(primary, threshold=2)
    await engine.interpret("oi", CONTEXT)
    primary.fail = None
    await engine.interpret("oi", CONTEXT)
    primary.fail = LlmUnavailable("timeout", "slow")
    await engine.interpret("oi", CONTEXT)
    assert await breaker.state() == "closed"


async def test_after_the_reset_time_one_message_tries_the_primary_again():
    primary = FakeEngine("llm", fail=LlmUnavailable("timeout", "slow"))
    engine, _, breaker, _ = make(primary, threshold=1, reset_after_s=0.05)
    await engine.interpret("oi", CONTEXT)
    assert await breaker.state() == "opened"
    await asyncio.sleep(0.1)
    await engine.interpret("oi", CONTEXT)  # half-open: tried, failed, open again
    assert primary.calls == 2
    assert await breaker.state() == "opened"
    await asyncio.sleep(0.1)
    primary.fail = None
    assert (await engine.interpret("oi", CONTEXT)).engine == "llm"
    assert await breaker.state() == "closed"
