"""A lean Graph API stand-in for load: answers sends like Meta, records who got which command.

``devkit.graph_standin`` keeps every body for tests that read the replies; under load the harness
needs only (command id, recipient, arrival time, text) and a wake-up for the waiting user. Faults:
``fail_for`` answers a status (500, 429…) for a while; ``latency_s`` delays every answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from devkit.graph_standin import render


@dataclass(frozen=True)
class Send:
    command_id: str  # biz_opaque_callback_data: our SendWhatsAppMessage.message_id
    to: str
    arrived_at: float  # time.perf_counter()
    text: str


@dataclass
class LoadGraph:
    latency_s: float = 0.0
    sends: list[Send] = field(default_factory=list)
    refused: int = 0  # answers with an injected error status
    on_send: Callable[[Send], None] | None = None
    _failing_until: float = 0.0
    _failing_status: int = 500
    _counter: int = 0
    read_marks: int = 0  # mark-as-read calls (the notifier's, one per inbound message)

    def fail_for(self, seconds: float, status: int = 500) -> None:
        """Answer ``status`` to every send for ``seconds`` (429 carries Retry-After: 1)."""
        self._failing_status = status
        self._failing_until = time.monotonic() + seconds

    async def handle_send(self, request: web.Request) -> web.Response:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        try:
            body: dict[str, Any] = json.loads(await request.read())
        except json.JSONDecodeError:
            return _error(400, 100, "Invalid JSON")
        if body.get("status") == "read" and body.get("message_id"):  # mark-as-read: not a send
            self.read_marks += 1
            return web.json_response({"success": True})
        recipient = body.get("to") or body.get("recipient")
        if body.get("messaging_product") != "whatsapp" or not recipient or "type" not in body:
            return _error(400, 100, "Invalid parameter")
        if time.monotonic() < self._failing_until:
            self.refused += 1
            if self._failing_status == 429:
                response = _error(429, 130429, "Rate limit hit")
                response.headers["Retry-After"] = "1"
                return response
            return _error(self._failing_status, 2, "Service temporarily unavailable")
        send = Send(str(body.get("biz_opaque_callback_data", "")), str(recipient), time.perf_counter(),
                    render(body))  # fmt: skip
        self.sends.append(send)
        if self.on_send is not None:
            self.on_send(send)
        self._counter += 1
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": recipient, "wa_id": recipient}],
                "messages": [{"id": f"wamid.load.{self._counter}"}],
            }
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{version}/{phone_number_id}/messages", self.handle_send)
        return app


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "OAuthException", "code": code}}, status=status
    )
