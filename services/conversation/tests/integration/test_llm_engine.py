"""The LLM engine over real HTTP, through the real openai SDK, against the local stand-in."""

import asyncio
import time

import pytest
from openai import AsyncOpenAI
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from conversation.config import ConversationSettings
from conversation.domain.understanding import (
    EngineContext,
    Expecting,
    FormField,
    Intent,
    Option,
    Understanding,
)
from conversation.engines.breaker import CircuitBreaker
from conversation.engines.factory import build_engine
from conversation.engines.fallback import FallbackEngine
from conversation.engines.llm import LlmBadOutput, LlmEngine, LlmUnavailable
from conversation.engines.offline import OfflineEngine
from conversation.knowledge import DEFAULT_EVENT_FILE, load_event
from devkit.openai_standin import Malformed, Slow, Status, Text, ToolCall

pytestmark = pytest.mark.integration

MENU = EngineContext(
    expecting=Expecting.MENU, options=(Option("info", "Informações"), Option("reg", "Inscrição"))
)


def tool_args(**overrides):
    return {"intent": "none", "slots": {}, "option": None, "question": False, "answer": None} | overrides


class Offline:
    name = "offline"

    def __init__(self) -> None:
        self.calls = 0

    async def interpret(self, text: str, context: EngineContext) -> Understanding:
        self.calls += 1
        return Understanding(intent=Intent.MENU, engine="offline")


@pytest.fixture(scope="module")
def knowledge():
    return load_event(DEFAULT_EVENT_FILE)


@pytest.fixture
async def client(openai_api):
    async with AsyncOpenAI(api_key=openai_api.api_key, base_url=openai_api.base_url, max_retries=0) as c:
        yield c


@pytest.fixture
def llm(client, knowledge):
    def make(**options) -> LlmEngine:
        settings = {
            "timeout_s": 1.0,
            "max_attempts": 3,
            "deadline_s": 3.0,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.05,
        }
        return LlmEngine(client, model="test-model", knowledge=knowledge, **(settings | options))

    return make


def with_fallback(primary, *, threshold=5, reset_after_s=30.0):
    registry, offline = CollectorRegistry(), Offline()
    engine = FallbackEngine(
        primary, offline, CircuitBreaker(threshold=threshold, reset_after_s=reset_after_s), registry=registry
    )
    return engine, registry


def fallbacks(registry, reason):
    return registry.get_sample_value("conversation_llm_fallbacks_total", {"reason": reason}) or 0


async def test_a_tool_call_becomes_an_understanding(llm, openai_api, knowledge):
    answer = "O congresso acontece em Rio Verde (GO), no Centro de Eventos Parque do Cerrado."
    openai_api.standin.script_chat(
        ToolCall(tool_args(intent="question", question=True, answer=answer, option="info"))
    )
    u = await llm().interpret("onde vai ser o congresso?", MENU)
    assert u == Understanding(
        intent=Intent.QUESTION, option="info", answer=answer, question=True, engine="llm"
    )
    [request] = openai_api.standin.chat_requests()
    assert request.authorization == f"Bearer {openai_api.api_key}"
    assert request.body["model"] == "test-model"
    assert request.body["tool_choice"] == {"type": "function", "function": {"name": "interpret"}}
    assert [t["function"]["name"] for t in request.body["tools"]] == ["interpret"]
    assert knowledge.event.name in request.messages()[0]["content"]


async def test_slots_from_free_text(llm, openai_api):
    openai_api.standin.script_chat(
        ToolCall(tool_args(slots={"email": "ana@example.com", "full_name": "Ana Souza"}))
    )
    u = await llm().interpret(
        "sou a Ana Souza, meu e-mail é ana@example.com", EngineContext(expecting=Expecting.FULL_NAME)
    )
    assert dict(u.slots) == {FormField.FULL_NAME: "Ana Souza", FormField.EMAIL: "ana@example.com"}


async def test_a_slow_answer_times_out_and_the_fallback_answers_quickly(llm, openai_api):
    openai_api.standin.script_chat(Slow(1.5), Slow(1.5), Slow(1.5))
    engine, registry = with_fallback(llm(timeout_s=0.2, max_attempts=2, deadline_s=1.0))
    started = time.perf_counter()
    assert (await engine.interpret("oi", MENU)).engine == "offline"
    assert time.perf_counter() - started < 1.0
    assert len(openai_api.standin.chat_requests()) == 2
    assert fallbacks(registry, "timeout") == 1


async def test_the_deadline_bounds_all_attempts_together(llm, openai_api):
    openai_api.standin.script_chat(Slow(1.5), Slow(1.5), Slow(1.5))
    with pytest.raises(LlmUnavailable, match="deadline"):
        await llm(timeout_s=0.3, max_attempts=3, deadline_s=0.5).interpret("oi", MENU)


async def test_a_429_is_retried_after_its_retry_after(llm, openai_api):
    openai_api.standin.script_chat(Status(429, retry_after=0.05), ToolCall(tool_args(intent="greeting")))
    u = await llm().interpret("oi", MENU)
    assert u.intent is Intent.GREETING
    assert len(openai_api.standin.chat_requests()) == 2


async def test_500s_past_the_attempts_fall_back(llm, openai_api):
    openai_api.standin.script_chat(
        Status(500), Status(500), Status(500), ToolCall(tool_args(intent="greeting"))
    )
    engine, registry = with_fallback(llm(max_attempts=3))
    assert (await engine.interpret("oi", MENU)).engine == "offline"
    assert len(openai_api.standin.chat_requests()) == 3
    assert fallbacks(registry, "server_error") == 1


async def test_a_client_error_is_not_retried(client, knowledge, openai_api):
    async with AsyncOpenAI(api_key="wrong", base_url=openai_api.base_url, max_retries=0) as wrong:
        engine = LlmEngine(wrong, model="m", knowledge=knowledge)
        with pytest.raises(LlmUnavailable, match="http_401"):
            await engine.interpret("oi", MENU)
    assert openai_api.standin.chat_requests() == []  # refused before being recorded


async def test_the_breaker_opens_skips_the_llm_then_half_opens(llm, openai_api):
    openai_api.standin.script_chat(Status(500), Status(500))
    engine, registry = with_fallback(llm(max_attempts=1), threshold=2, reset_after_s=0.3)
    for _ in range(5):
        assert (await engine.interpret("oi", MENU)).engine == "offline"
    assert len(openai_api.standin.chat_requests()) == 2  # the last three never reached the server
    assert fallbacks(registry, "circuit_open") == 3
    await asyncio.sleep(0.35)
    openai_api.standin.script_chat(ToolCall(tool_args(intent="greeting")))
    assert (await engine.interpret("oi", MENU)).engine == "llm"  # half-open: one try, it worked
    assert (await engine.interpret("oi", MENU)).engine == "llm"
    assert len(openai_api.standin.chat_requests()) == 4


@pytest.mark.parametrize(
    "behaviour",
    [
        Malformed(),
        Malformed('{"intent": "transfer_registration", "slots": {}}'),
        Malformed('{"intent": "none", "slots": {"password": "x"}}'),
        Text("Olá! Como posso ajudar?"),
    ],
)
async def test_anything_but_one_well_formed_tool_call_falls_back(llm, openai_api, behaviour):
    openai_api.standin.script_chat(behaviour)
    with pytest.raises(LlmBadOutput):
        await llm().interpret("oi", MENU)
    openai_api.standin.script_chat(behaviour)
    engine, registry = with_fallback(llm())
    assert (await engine.interpret("oi", MENU)).engine == "offline"
    assert fallbacks(registry, "bad_output") == 1


async def test_the_factory_without_a_key_is_the_offline_engine(knowledge):
    offline = Offline()
    assert build_engine(ConversationSettings(openai_api_key=None), knowledge, offline) is offline


async def test_the_factory_with_a_key_reads_through_the_llm(knowledge, openai_api, client):
    settings = ConversationSettings(
        openai_api_key=SecretStr(openai_api.api_key), openai_base_url=openai_api.base_url
    )
    engine = build_engine(settings, knowledge, Offline(), client=client)
    openai_api.standin.script_chat(ToolCall(tool_args(intent="register")))
    assert (await engine.interpret("quero me inscrever", MENU)).intent is Intent.REGISTER


async def test_with_the_llm_down_the_real_offline_engine_answers(knowledge, openai_api, client):
    settings = ConversationSettings(
        openai_api_key=SecretStr(openai_api.api_key),
        openai_base_url=openai_api.base_url,
        openai_max_attempts=1,
    )
    engine = build_engine(settings, knowledge, OfflineEngine(knowledge), client=client)
    openai_api.standin.script_chat(Status(500))
    u = await engine.interpret("quero me inscrever", MENU)
    assert u.engine == "offline"
    assert u.intent is Intent.REGISTER
