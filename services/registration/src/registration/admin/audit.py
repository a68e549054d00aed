"""Every call to the admin API is written down: who (the token's name, or "anonymous"), what
(method, path, query), when, and the status answered, including refused calls."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.logging import get_logger
from registration.models import AuditEntry

log = get_logger(__name__)

ADMIN_PREFIX = "/admin"
ANONYMOUS = "anonymous"


class AuditMiddleware:
    """ASGI middleware: the auth dependency names the caller in ``scope["state"]["actor"]``."""

    def __init__(self, app: ASGIApp, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # the same dict the app's ``request.state`` writes to
        status = 500  # what the server answers if the app raises before starting a response

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            await self._record(scope, str(state.get("actor", ANONYMOUS)), status)

    async def _record(self, scope: Scope, actor: str, status: int) -> None:
        entry = AuditEntry(
            actor=actor[:64],
            method=scope["method"][:8],
            path=scope["path"][:500],
            query=scope.get("query_string", b"").decode("latin-1")[:1000],
            status_code=status,
        )
        async with self.sessions() as db, db.begin():
            db.add(entry)
        log.info("admin.call", actor=entry.actor, method=entry.method, path=entry.path, status=status)
