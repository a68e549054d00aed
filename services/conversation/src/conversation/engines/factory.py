"""Which engine reads messages: the offline one alone, or the LLM with the offline one behind it."""

from __future__ import annotations

from openai import AsyncOpenAI
from prometheus_client import CollectorRegistry

from conversation.config import ConversationSettings
from conversation.engines.base import Engine
from conversation.engines.breaker import CircuitBreaker
from conversation.engines.fallback import FallbackEngine
from conversation.engines.llm import LlmEngine
from conversation.knowledge import EventKnowledge


def openai_client(settings: ConversationSettings) -> AsyncOpenAI | None:
    """One client for chat and transcription, or None without ``OPENAI_API_KEY``.

    The SDK's own retries are off: ``LlmEngine`` retries within its deadline. Close it on shutdown.
    """
    if settings.openai_api_key is None:
        return None
    return AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_s,
        max_retries=0,
    )


def build_engine(
    settings: ConversationSettings,
    knowledge: EventKnowledge,
    offline: Engine,
    *,
    client: AsyncOpenAI | None = None,
    registry: CollectorRegistry | None = None,
) -> Engine:
    """``offline`` alone without a key; else the LLM, falling back to ``offline`` on any failure."""
    client = client or openai_client(settings)
    if client is None:
        return offline
    llm = LlmEngine(
        client,
        model=settings.openai_model,
        knowledge=knowledge,
        timeout_s=settings.openai_timeout_s,
        max_attempts=settings.openai_max_attempts,
        deadline_s=settings.openai_deadline_s,
    )
    breaker = CircuitBreaker(
        threshold=settings.openai_breaker_threshold, reset_after_s=settings.openai_breaker_reset_s
    )
    return FallbackEngine(llm, offline, breaker, registry=registry)
