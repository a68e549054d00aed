"""A local stand-in for Meta's Graph API: speaks the real send protocol and records what it got.

Used by ``make run`` (so a developer sees the bot's replies) and by the end-to-end tests.
``POST /{version}/{phone_number_id}/messages`` answers like Meta does; ``GET /_received`` lists
what arrived. ``fail_next`` makes the next N sends fail (503, Meta code 2, unless ``fail_status``
and ``fail_code`` say otherwise: 400/131047 is "outside the 24-hour window"), for retry tests;
``delay_s`` slows every send down (fault tests kill a sender mid-call).
A mark-as-read (``{"status": "read", "message_id": …}`` on the same path) is recorded in
``reads`` (not in ``messages``); ``fail_reads`` makes the next N of them fail (500).
Media a test puts in ``media`` is served the way Meta serves it: ``GET /{version}/{media_id}``
answers its metadata and a download URL, which answers the bytes (both need the bearer token).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class ReceivedMessage:
    version: str
    phone_number_id: str
    authorization: str | None
    traceparent: str | None
    body: dict[str, Any]
    arrived_at: float = field(default_factory=time.perf_counter)  # for latency measurements

    @property
    def text(self) -> str:
        """What the user would read: the text, or an interactive body with its options."""
        return render(self.body)

    @property
    def option_ids(self) -> list[str]:
        action = self.body.get("interactive", {}).get("action", {})
        ids = [b["reply"]["id"] for b in action.get("buttons", [])]
        return ids + [r["id"] for s in action.get("sections", []) for r in s.get("rows", [])]


def render(body: dict[str, Any]) -> str:
    if body.get("type") == "text":
        return str(body.get("text", {}).get("body", ""))
    interactive = body.get("interactive", {})
    action = interactive.get("action", {})
    titles = [b["reply"]["title"] for b in action.get("buttons", [])]
    titles += [r["title"] for s in action.get("sections", []) for r in s.get("rows", [])]
    options = "".join(f"\n  [{title}]" for title in titles)
    return f"{interactive.get('body', {}).get('text', json.dumps(body))}{options}"


@dataclass
class ReadMark:
    phone_number_id: str
    message_id: str
    typing_indicator: bool


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


@dataclass
class GraphStandin:
    access_token: str | None = None
    echo: bool = False
    fail_next: int = 0
    fail_status: int = 503
    fail_code: int = 2
    delay_s: float = 0.0
    # False: a send whose caller hung up during ``delay_s`` (it was killed) is not taken, as if it
    # never reached Meta; True: taken all the same, as if Meta got it just before.
    take_abandoned: bool = True
    abandoned: int = 0  # sends not taken because their caller was gone
    in_flight: int = 0  # sends inside ``delay_s`` (or held) right now
    attempts: int = 0  # every well-formed send, failed or not
    messages: list[ReceivedMessage] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # media id -> (bytes, mime type)
    media_downloads: list[str] = field(default_factory=list)  # media ids whose bytes were fetched
    reads: list[ReadMark] = field(default_factory=list)  # mark-as-read calls answered with success
    fail_reads: int = 0
    read_attempts: int = 0
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _released: asyncio.Event = field(default_factory=_set_event)

    def reset(self) -> None:
        self.messages.clear()
        self.fail_next = 0
        self.fail_status, self.fail_code, self.delay_s, self.attempts = 503, 2, 0.0, 0
        self.take_abandoned, self.abandoned = True, 0
        self._released.set()
        self.media.clear()
        self.media_downloads.clear()
        self.reads.clear()
        self.fail_reads = self.read_attempts = 0

    def hold(self) -> None:
        """Sends that reach the stand-in from now on (and those inside ``delay_s``) are not
        answered until :meth:`release`: a test that cuts something "mid-send" knows that it did,
        however slowly the machine runs."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    async def wait_in_flight(self, timeout: float) -> None:
        """Until a send is inside ``delay_s`` or held: taken by the stand-in, not answered yet."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: self.in_flight > 0)

    async def wait_for(self, count: int, timeout: float) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages arrived (or raise TimeoutError)."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.messages) >= count)
        return list(self.messages)

    async def handle_send(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization")
        if self.access_token is not None and auth != f"Bearer {self.access_token}":
            return _error(401, 190, "Invalid OAuth access token")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, 100, "Invalid JSON")
        if body.get("status") == "read":
            return self._mark_read(request, body)
        recipient = body.get("to") or body.get("recipient")
        if body.get("messaging_product") != "whatsapp" or not recipient or "type" not in body:
            return _error(400, 100, "Invalid parameter")
        self.attempts += 1
        if self.delay_s or not self._released.is_set():
            async with self._arrived:
                self.in_flight += 1
                self._arrived.notify_all()
            try:
                await asyncio.sleep(self.delay_s)
                await self._released.wait()
            finally:
                self.in_flight -= 1
            if not self.take_abandoned and (request.transport is None or request.transport.is_closing()):
                self.abandoned += 1
                return _error(503, 2, "The caller is gone")
        if self.fail_next > 0:
            self.fail_next -= 1
            return _error(self.fail_status, self.fail_code, "Failed on purpose by the stand-in")
        message = ReceivedMessage(
            version=request.match_info["version"],
            phone_number_id=request.match_info["phone_number_id"],
            authorization=auth,
            traceparent=request.headers.get("traceparent"),
            body=body,
        )
        async with self._arrived:
            self.messages.append(message)
            wamid = f"wamid.standin.{len(self.messages)}"
            self._arrived.notify_all()
        if self.echo:
            print(f"\n📤 WhatsApp reply to {recipient}:\n{render(body)}\n", flush=True)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": recipient, "wa_id": recipient}],
                "messages": [{"id": wamid}],
            }
        )

    def _mark_read(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        """Meta's mark-as-read (and typing indicator): ``{"success": true}``."""
        if body.get("messaging_product") != "whatsapp" or not body.get("message_id"):
            return _error(400, 100, "Invalid parameter")
        typing = body.get("typing_indicator")
        if typing is not None and typing != {"type": "text"}:
            return _error(400, 100, "Invalid parameter")
        self.read_attempts += 1
        if self.fail_reads > 0:
            self.fail_reads -= 1
            return _error(500, 1, "Failed on purpose by the stand-in")
        mark = ReadMark(request.match_info["phone_number_id"], str(body["message_id"]), typing is not None)
        self.reads.append(mark)
        if self.echo:
            print(f"👀 read {mark.message_id}{' (typing…)' if mark.typing_indicator else ''}", flush=True)
        return web.json_response({"success": True})

    def _authorized(self, request: web.Request) -> bool:
        return (
            self.access_token is None or request.headers.get("Authorization") == f"Bearer {self.access_token}"
        )

    async def handle_media(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 190, "Invalid OAuth access token")
        media_id = request.match_info["media_id"]
        if media_id not in self.media:
            return _error(400, 100, "Unsupported get request")
        content, mime_type = self.media[media_id]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": str(request.url.with_path(f"/_media/download/{media_id}").with_query(None)),
                "mime_type": mime_type,
                "sha256": hashlib.sha256(content).hexdigest(),
                "file_size": len(content),
                "id": media_id,
            }
        )

    async def handle_media_download(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)  # Meta's CDN answers without a JSON body
        media_id = request.match_info["media_id"]
        if media_id not in self.media:
            return web.Response(status=404)
        self.media_downloads.append(media_id)
        content, mime_type = self.media[media_id]
        return web.Response(body=content, content_type=mime_type.split(";")[0].strip())

    async def handle_list(self, _: web.Request) -> web.Response:
        return web.json_response([m.__dict__ for m in self.messages])

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{version}/{phone_number_id}/messages", self.handle_send)
        app.router.add_get("/_received", self.handle_list)
        app.router.add_get("/_media/download/{media_id}", self.handle_media_download)
        app.router.add_get("/{version}/{media_id}", self.handle_media)
        return app


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "OAuthException", "code": code}}, status=status
    )


def main(port: int) -> None:
    standin = GraphStandin(echo=True)
    print(f"Graph API stand-in listening on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    web.run_app(standin.app(), host="127.0.0.1", port=port, print=None)
