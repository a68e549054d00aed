"""A local stand-in for an OpenAI-compatible server: Chat Completions with tool calls, transcriptions.

Tests script what comes next (``script_chat``/``script_audio``): a tool call with given arguments,
a slow answer, a 429 with ``Retry-After``, a 500, malformed arguments, a plain text reply. With the
script empty, chat answers with ``default_arguments`` and audio with ``default_transcript``.
Every request is recorded (``requests``), so tests can assert what the model was shown.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web


@dataclass(frozen=True)
class ToolCall:
    """Answer with one call of the requested tool; ``arguments`` go out as a JSON string."""

    arguments: dict[str, Any]


@dataclass(frozen=True)
class Malformed:
    """Answer with a tool call whose ``arguments`` string is exactly this (invalid JSON, say)."""

    arguments: str = '{"intent": "none", "slots": '


@dataclass(frozen=True)
class Text:
    """Answer with a plain assistant message and no tool call."""

    content: str


@dataclass(frozen=True)
class Transcript:
    text: str


@dataclass(frozen=True)
class Status:
    """An error answer in OpenAI's shape (429 with ``retry_after`` sends the header)."""

    status: int
    retry_after: float | None = None


@dataclass(frozen=True)
class Slow:
    """Wait ``seconds``, then answer with ``then`` (the default answer when None)."""

    seconds: float
    then: Behaviour | None = None


Behaviour = ToolCall | Malformed | Text | Transcript | Status | Slow


@dataclass
class RecordedRequest:
    path: str
    authorization: str | None
    body: dict[str, Any]  # the JSON body; for transcriptions, the form fields
    file: tuple[str, str, bytes] | None = None  # transcriptions: filename, content type, bytes

    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))


DEFAULT_ARGUMENTS: dict[str, Any] = {
    "intent": "none",
    "slots": {},
    "option": None,
    "question": False,
    "answer": None,
}


@dataclass
class OpenAiStandin:
    api_key: str | None = None
    default_arguments: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_ARGUMENTS))
    default_transcript: str = "transcrição de teste"
    requests: list[RecordedRequest] = field(default_factory=list)
    chat_script: deque[Behaviour] = field(default_factory=deque)
    audio_script: deque[Behaviour] = field(default_factory=deque)
    _count: int = 0

    def reset(self) -> None:
        self.requests.clear()
        self.chat_script.clear()
        self.audio_script.clear()
        self.default_arguments = dict(DEFAULT_ARGUMENTS)

    def script_chat(self, *behaviours: Behaviour) -> None:
        self.chat_script.extend(behaviours)

    def script_audio(self, *behaviours: Behaviour) -> None:
        self.audio_script.extend(behaviours)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    async def handle_chat(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "invalid_request_error", "Invalid JSON body")
        if not isinstance(body, dict) or "model" not in body or not body.get("messages"):
            return _error(400, "invalid_request_error", "model and messages are required")
        self.requests.append(RecordedRequest(request.path, request.headers.get("Authorization"), body))
        behaviour = self.chat_script.popleft() if self.chat_script else None
        return await self._chat_answer(body, behaviour)

    async def _chat_answer(self, body: dict[str, Any], behaviour: Behaviour | None) -> web.Response:
        if isinstance(behaviour, Slow):
            await asyncio.sleep(behaviour.seconds)
            behaviour = behaviour.then
        if isinstance(behaviour, Status):
            return _status(behaviour)
        self._count += 1
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        finish_reason = "tool_calls"
        if isinstance(behaviour, Text):
            message["content"], finish_reason = behaviour.content, "stop"
        else:
            arguments = (
                behaviour.arguments
                if isinstance(behaviour, Malformed)
                else json.dumps(
                    behaviour.arguments if isinstance(behaviour, ToolCall) else self.default_arguments,
                    ensure_ascii=False,
                )
            )
            message["tool_calls"] = [
                {
                    "id": f"call_standin_{self._count}",
                    "type": "function",
                    "function": {"name": _tool_name(body), "arguments": arguments},
                }
            ]
        return web.json_response(
            {
                "id": f"chatcmpl-standin-{self._count}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
            }
        )

    async def handle_transcription(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        fields: dict[str, Any] = {}
        upload: tuple[str, str, bytes] | None = None
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):  # a nested multipart: not in this API
                continue
            if part.filename is not None:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                upload = (part.filename, content_type, bytes(await part.read()))
            elif part.name:
                fields[part.name] = await part.text()
        if upload is None or "model" not in fields:
            return _error(400, "invalid_request_error", "file and model are required")
        self.requests.append(
            RecordedRequest(request.path, request.headers.get("Authorization"), fields, upload)
        )
        behaviour = self.audio_script.popleft() if self.audio_script else None
        if isinstance(behaviour, Slow):
            await asyncio.sleep(behaviour.seconds)
            behaviour = behaviour.then
        if isinstance(behaviour, Status):
            return _status(behaviour)
        text = behaviour.text if isinstance(behaviour, Transcript) else self.default_transcript
        return web.json_response({"text": text})

    def _denied(self, request: web.Request) -> web.Response | None:
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "invalid_request_error", "Incorrect API key provided", code="invalid_api_key")
        return None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.handle_chat)
        app.router.add_post("/v1/audio/transcriptions", self.handle_transcription)
        return app


def _tool_name(body: dict[str, Any]) -> str:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return str(choice.get("function", {}).get("name", "tool"))
    tools = body.get("tools") or [{}]
    return str(tools[0].get("function", {}).get("name", "tool"))


def _status(behaviour: Status) -> web.Response:
    kind = "rate_limit_exceeded" if behaviour.status == 429 else "server_error"
    response = _error(behaviour.status, kind, f"stand-in answered {behaviour.status}")
    if behaviour.retry_after is not None:
        response.headers["Retry-After"] = str(behaviour.retry_after)
    return response


def _error(status: int, kind: str, message: str, code: str | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status
    )
