"""Local stand-ins for the Baileys-style gateways' send APIs: Evolution API, Z-API, Whaticket.

One aiohttp app answers all three, each with its own path and credential, and records what
arrived (``sent``), so the notifier's senders are tested over real HTTP.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

EVOLUTION_API_KEY = "test-evolution-key"
ZAPI_INSTANCE_TOKEN = "test-zapi-token"
ZAPI_CLIENT_TOKEN = "test-zapi-client-token"
WHATICKET_TOKEN = "test-whaticket-token"


@dataclass
class GatewaySent:
    gateway: str
    instance: str | None
    body: dict[str, Any]


@dataclass
class GatewayStandin:
    fail_next: int = 0
    fail_status: int = 500
    sent: list[GatewaySent] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        self.sent.clear()
        self.fail_next, self.fail_status = 0, 500

    def _failure(self) -> web.Response | None:
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"error": "failed on purpose"}, status=self.fail_status)
        return None

    async def evolution(self, request: web.Request) -> web.Response:
        if request.headers.get("apikey") != EVOLUTION_API_KEY:
            return web.json_response({"status": 401, "error": "Unauthorized"}, status=401)
        body = await request.json()
        if not body.get("number") or not body.get("text"):
            return web.json_response({"status": 400, "error": "Bad Request"}, status=400)
        if (failure := self._failure()) is not None:
            return failure
        self.sent.append(GatewaySent("evolution", request.match_info["instance"], body))
        key = {"remoteJid": body["number"], "fromMe": True, "id": f"EVO{next(self._ids):08d}"}
        return web.json_response({"key": key, "status": "PENDING"}, status=201)

    async def zapi(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != ZAPI_INSTANCE_TOKEN:
            return web.json_response({"error": "Instance not found"}, status=404)
        if request.headers.get("Client-Token") != ZAPI_CLIENT_TOKEN:
            return web.json_response({"error": "null not allowed"}, status=403)
        body = await request.json()
        if (failure := self._failure()) is not None:
            return failure
        self.sent.append(GatewaySent("zapi", request.match_info["instance"], body))
        n = next(self._ids)
        return web.json_response({"zaapId": f"ZAAP{n}", "messageId": f"ZMSG{n}", "id": f"ZMSG{n}"})

    async def whaticket(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {WHATICKET_TOKEN}":
            return web.json_response({"error": "ERR_SESSION_EXPIRED"}, status=401)
        body = await request.json()
        if (failure := self._failure()) is not None:
            return failure
        self.sent.append(GatewaySent("whaticket", None, body))
        return web.json_response({"message": "Message sent"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/message/sendText/{instance}", self.evolution)
        app.router.add_post("/instances/{instance}/token/{token}/send-text", self.zapi)
        app.router.add_post("/api/messages/send", self.whaticket)
        return app
