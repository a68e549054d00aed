"""The LLM engine: one Chat Completions call with one forced tool, through the ``openai`` SDK.

``OPENAI_BASE_URL`` may point at any server that speaks the protocol (tool calls required). Retries
are ours, not the SDK's: a few attempts with full-jitter exponential backoff on 429, 5xx, timeouts
and connection errors, all within one deadline so a chat reply is never held up for long. Every
failure raises an ``LlmError``; ``FallbackEngine`` then lets the offline engine answer.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion, ChatCompletionMessageFunctionToolCall
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from conversation.domain.understanding import EngineContext, Understanding
from conversation.engines.llm_prompt import (
    TOOL_NAME,
    LlmBadOutput,
    LlmError,
    LlmUnavailable,
    Prompt,
    parse_arguments,
    tool_definition,
)
from conversation.knowledge import EventKnowledge

MAX_COMPLETION_TOKENS = 1024  # a reading plus a short answer; bounds latency and cost


class LlmEngine:
    name = "llm"

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str,
        knowledge: EventKnowledge,
        timeout_s: float = 4.0,
        max_attempts: int = 3,
        deadline_s: float = 8.0,
        backoff_base_s: float = 0.25,
        backoff_max_s: float = 2.0,
    ) -> None:
        self._client = client
        self._model = model
        self._prompt = Prompt(knowledge)
        self._tool = tool_definition()
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._deadline_s = deadline_s
        self._jitter = wait_random_exponential(multiplier=backoff_base_s, max=backoff_max_s)
        self._backoff_max_s = backoff_max_s

    async def interpret(self, text: str, context: EngineContext) -> Understanding:
        completion = await self._complete(self._prompt.messages(text, context))
        args = parse_arguments(_tool_arguments(completion))
        return self._prompt.understanding(args, context)

    async def _complete(self, messages: list[dict[str, str]]) -> ChatCompletion:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception(_transient),
            reraise=True,
        )
        try:
            async with asyncio.timeout(self._deadline_s):
                async for attempt in retrying:
                    with attempt:
                        return await self._client.chat.completions.create(
                            model=self._model,
                            messages=cast(Any, messages),
                            tools=[cast(Any, self._tool)],
                            tool_choice={"type": "function", "function": {"name": TOOL_NAME}},
                            parallel_tool_calls=False,
                            max_completion_tokens=MAX_COMPLETION_TOKENS,
                            timeout=self._timeout_s,
                        )
        except TimeoutError as exc:
            raise LlmUnavailable("deadline", f"no answer within {self._deadline_s}s") from exc
        except openai.APITimeoutError as exc:
            raise LlmUnavailable("timeout", str(exc)) from exc
        except openai.APIConnectionError as exc:
            raise LlmUnavailable("connection", str(exc)) from exc
        except openai.RateLimitError as exc:
            raise LlmUnavailable("rate_limited", str(exc)) from exc
        except openai.APIStatusError as exc:
            reason = "server_error" if exc.status_code >= 500 else f"http_{exc.status_code}"
            raise LlmUnavailable(reason, str(exc)) from exc
        except openai.OpenAIError as exc:  # e.g. an answer the SDK cannot read
            raise LlmUnavailable("error", f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable: tenacity returns or reraises")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        """Full jitter; a 429's Retry-After is honoured when it fits under the backoff cap."""
        delay = self._jitter(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, openai.RateLimitError):
            retry_after = _retry_after(exc)
            if retry_after is not None:
                delay = max(delay, min(retry_after, self._backoff_max_s))
        return delay


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError)  # includes APITimeoutError


def _retry_after(exc: openai.APIStatusError) -> float | None:
    try:
        return max(0.0, float(exc.response.headers.get("retry-after", "")))
    except ValueError:
        return None


def _tool_arguments(completion: ChatCompletion) -> str:
    if not completion.choices:
        raise LlmBadOutput("bad_output", "no choices")
    calls = [
        call
        for call in completion.choices[0].message.tool_calls or []
        if isinstance(call, ChatCompletionMessageFunctionToolCall) and call.function.name == TOOL_NAME
    ]
    if len(calls) != 1:
        raise LlmBadOutput("bad_output", f"expected one {TOOL_NAME} call, got {len(calls)}")
    return calls[0].function.arguments


__all__ = ["LlmBadOutput", "LlmEngine", "LlmError", "LlmUnavailable"]
