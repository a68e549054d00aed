"""Local stand-ins for the Baileys-style gateways' send APIs: Evolution API, Z-API, Whaticket.

One aiohttp app answers all three, each with its own path, credential and answer shapes, and
records what arrived (``sent``; marked read: ``reads``), so the notifier's senders are tested
over real HTTP. Shapes: Evolution v2 (``SendTextDto``, ``ReadMessageDto``); Z-API's documented
``send-text`` (``{"zaapId", "messageId", "id"}``) and ``read-message`` (204); Whaticket's
``/api/messages/send`` as its code has it: ``number`` digits only (400 ``{"error": "Invalid
number format…"}``), an empty 200 (community edition) or ``{"mensagem": "Mensagem enviada"}``
(``whaticket_saas``), no message id either way; a bad token is a 403, no token a 401.
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
    fail_error: str = "failed on purpose"
    whaticket_saas: bool = False
    sent: list[GatewaySent] = field(default_factory=list)
    reads: list[GatewaySent] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        self.sent.clear()
        self.reads.clear()
        self.fail_next, self.fail_status, self.fail_error = 0, 500, "failed on purpose"
        self.whaticket_saas = False

    def _failure(self) -> web.Response | None:
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"error": self.fail_error}, status=self.fail_status)
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

    async def evolution_read(self, request: web.Request) -> web.Response:
        if request.headers.get("apikey") != EVOLUTION_API_KEY:
            return web.json_response({"status": 401, "error": "Unauthorized"}, status=401)
        body = await request.json()
        keys = body.get("readMessages")
        if not isinstance(keys, list) or not keys or not all({"remoteJid", "id"} <= set(k) for k in keys):
            return web.json_response({"status": 400, "error": "Bad Request"}, status=400)
        self.reads.append(GatewaySent("evolution", request.match_info["instance"], body))
        return web.json_response({"message": "Read messages", "read": "success"}, status=201)

    def _zapi_refused(self, request: web.Request) -> web.Response | None:
        if request.match_info["token"] != ZAPI_INSTANCE_TOKEN:
            return web.json_response({"error": "Instance not found"}, status=404)
        if request.headers.get("Client-Token") != ZAPI_CLIENT_TOKEN:
            return web.json_response({"error": "null not allowed"}, status=403)
        return None

    async def zapi_read(self, request: web.Request) -> web.Response:
        if (refused := self._zapi_refused(request)) is not None:
            return refused
        body = await request.json()
        if not body.get("phone") or not body.get("messageId"):
            return web.json_response({"error": "phone and messageId are required"}, status=400)
        self.reads.append(GatewaySent("zapi", request.match_info["instance"], body))
        return web.Response(status=204)

    async def zapi(self, request: web.Request) -> web.Response:
        if (refused := self._zapi_refused(request)) is not None:
            return refused
        body = await request.json()
        if not body.get("phone") or not body.get("message"):
            return web.json_response({"error": "phone and message are required"}, status=400)
        if (failure := self._failure()) is not None:
            return failure
        self.sent.append(GatewaySent("zapi", request.match_info["instance"], body))
        n = next(self._ids)
        return web.json_response({"zaapId": f"ZAAP{n}", "messageId": f"ZMSG{n}", "id": f"ZMSG{n}"})

    async def whaticket(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization")
        if not authorization:
            return web.json_response({"error": "ERR_SESSION_EXPIRED"}, status=401)
        if authorization != f"Bearer {WHATICKET_TOKEN}":
            error = "Invalid token. We'll try to assign a new one on next request"
            return web.json_response({"error": error}, status=403)
        body = await request.json()
        number = str(body.get("number", "")).replace("-", "", 1).replace(" ", "", 1)
        if not number.isdigit():
            error = "Invalid number format. Only numbers is allowed."
            return web.json_response({"error": error}, status=400)
        if (failure := self._failure()) is not None:
            return failure
        self.sent.append(GatewaySent("whaticket", None, body))
        if self.whaticket_saas:
            return web.json_response({"mensagem": "Mensagem enviada"})
        return web.Response(status=200)  # the community edition's `res.send()`

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/message/sendText/{instance}", self.evolution)
        app.router.add_post("/chat/markMessageAsRead/{instance}", self.evolution_read)
        app.router.add_post("/instances/{instance}/token/{token}/send-text", self.zapi)
        app.router.add_post("/instances/{instance}/token/{token}/read-message", self.zapi_read)
        app.router.add_post("/api/messages/send", self.whaticket)
        return app
