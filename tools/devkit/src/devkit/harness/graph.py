"""A lean Graph API stand-in for load: answers sends like Meta, records who got which command.

``devkit.graph_standin`` keeps every body for tests that read the replies; under load the harness
needs only (command id, recipient, arrival time, text) and a wake-up for the waiting user. Faults:
``fail_for`` answers a status (500, 429…) for a while; ``latency_s`` delays every answer.

``send_receipts``: like Meta, each accepted send is followed by a signed ``sent`` status webhook
to ingress carrying the send's ``biz_opaque_callback_data`` (retried with backoff while ingress
does not answer 200, as Meta retries): what lets the notifier tell a send a crash interrupted
after Meta took it from one Meta never got.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from devkit import samples
from devkit.graph_standin import render

RECEIPT_RETRY_FOR_S = 120.0


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
    receipts_posted: int = 0
    receipts_lost: int = 0  # not taken by ingress within RECEIPT_RETRY_FOR_S
    _receipts: tuple[Sequence[str], str] | None = None  # (ingress URLs, app secret)
    _http: aiohttp.ClientSession | None = None
    _pending: set[asyncio.Task[None]] = field(default_factory=set)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def send_receipts(self, ingress_urls: Sequence[str], app_secret: str) -> None:
        """From now on, post a ``sent`` receipt for every accepted send (see the module docstring)."""
        self._receipts = (ingress_urls, app_secret)

    async def close(self) -> None:
        for task in self._pending:
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

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
        wamid = f"wamid.load.{self._counter}"
        if self._receipts is not None and send.command_id:
            task = asyncio.create_task(self._post_receipt(wamid, send))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": recipient, "wa_id": recipient}],
                "messages": [{"id": wamid}],
            }
        )

    async def _post_receipt(self, wamid: str, send: Send) -> None:
        assert self._receipts is not None
        urls, secret = self._receipts
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        body = samples.meta_status("sent", wamid=wamid, recipient=send.to, tracker=send.command_id)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": samples.meta_signature(secret, body),
        }
        deadline, backoff = time.monotonic() + RECEIPT_RETRY_FOR_S, 0.5
        while True:
            url = urls[next(self._turn) % len(urls)]
            try:
                async with self._http.post(f"{url}/webhooks/meta", data=body, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        self.receipts_posted += 1
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                self.receipts_lost += 1
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{version}/{phone_number_id}/messages", self.handle_send)
        return app


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "OAuthException", "code": code}}, status=status
    )
