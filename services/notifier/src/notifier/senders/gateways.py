"""Baileys-style gateways (Evolution API, Z-API, Whaticket): plain text to the chat's id.

They have no reply buttons or lists we can rely on, so those go as a numbered text (the chat
understands "1", "2"…). The number is always the id the message came from (a JID such as
``…@s.whatsapp.net`` / ``…@lid`` or a phone), never one typed by the user.
"""

from __future__ import annotations

from typing import Any

from common.contracts import SendWhatsAppMessage
from notifier.errors import SendFailed
from notifier.senders.base import Sent, as_text, retry_after, retryable_status
from notifier.senders.http import HttpPool


def _check(gateway: str, status: int, after: str | None, body: Any) -> None:
    if status >= 300:
        raise SendFailed(
            f"{gateway} {status}: {str(body)[:200]}",
            retryable=retryable_status(status),
            retry_after_s=retry_after(after),
        )


def _first_id(body: Any, *paths: tuple[str, ...]) -> str | None:
    for path in paths:
        node = body
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str | int) and str(node):
            return str(node)
    return None


class EvolutionSender:
    """Evolution API v2: ``POST /message/sendText/{instance}`` with the ``apikey`` header."""

    def __init__(self, http: HttpPool, *, base_url: str, api_key: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._headers = {"apikey": api_key}

    async def send(self, command: SendWhatsAppMessage) -> Sent:
        url = f"{self._base}/message/sendText/{command.business_id}"  # business_id = instance name
        payload = {"number": command.to.id, "text": as_text(command.content)}
        status, after, body = await self._http.post(url, payload, self._headers)
        _check("evolution", status, after, body)
        message_id = _first_id(body, ("key", "id"))
        if message_id is None:
            raise SendFailed(f"unexpected evolution answer: {body!r:.200}", retryable=True)
        return Sent(message_id, "text")


class ZapiSender:
    """Z-API: ``POST /instances/{instance}/token/{token}/send-text`` with ``Client-Token``."""

    def __init__(self, http: HttpPool, *, base_url: str, instance_token: str, client_token: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._token = instance_token
        self._headers = {"Client-Token": client_token}

    async def send(self, command: SendWhatsAppMessage) -> Sent:
        url = f"{self._base}/instances/{command.business_id}/token/{self._token}/send-text"
        payload = {"phone": command.to.id, "message": as_text(command.content)}
        status, after, body = await self._http.post(url, payload, self._headers)
        _check("zapi", status, after, body)
        message_id = _first_id(body, ("messageId",), ("zaapId",), ("id",))
        if message_id is None:
            raise SendFailed(f"unexpected zapi answer: {body!r:.200}", retryable=True)
        return Sent(message_id, "text")


class WhaticketSender:
    """Whaticket: ``POST /api/messages/send`` with the API token as bearer."""

    def __init__(self, http: HttpPool, *, base_url: str, api_token: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_token}"}

    async def send(self, command: SendWhatsAppMessage) -> Sent:
        payload = {"number": command.to.id, "body": as_text(command.content)}
        status, after, body = await self._http.post(f"{self._base}/api/messages/send", payload, self._headers)
        _check("whaticket", status, after, body)
        # Whaticket answers {"message": "Message sent"} without an id on most versions.
        message_id = _first_id(body, ("id",), ("message", "id")) or f"whaticket:{command.message_id}"
        return Sent(message_id, "text")
