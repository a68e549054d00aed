"""Baileys-style gateways (Evolution API, Z-API, Whaticket): plain text to the chat's id.

They have no reply buttons or lists we can rely on, so those go as a numbered text (the chat
understands "1", "2"…). The number is always the id the message came from (a JID such as
``…@s.whatsapp.net`` / ``…@lid`` or a phone), never one typed by the user.

Marking received messages read: Evolution (``/chat/markMessageAsRead``) and Z-API
(``/read-message``) have it; Whaticket's API has none (Whaticket marks a ticket's messages read
itself when its API sends into that ticket, so our reply does it).
"""

from __future__ import annotations

from typing import Any

from common.contracts import MessageReceived, SendWhatsAppMessage
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

    async def mark_read(self, event: MessageReceived) -> None:
        """``POST /chat/markMessageAsRead/{instance}`` with the message's key (201 when done)."""
        url = f"{self._base}/chat/markMessageAsRead/{event.business_id}"
        key = {"remoteJid": event.reply_to.id, "fromMe": False, "id": event.provider_message_id}
        status, after, body = await self._http.post(url, {"readMessages": [key]}, self._headers)
        _check("evolution", status, after, body)


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
        # messageId is WhatsApp's id (status callbacks carry it); zaapId is Z-API's own.
        message_id = _first_id(body, ("messageId",), ("zaapId",), ("id",))
        if message_id is None:
            raise SendFailed(f"unexpected zapi answer: {body!r:.200}", retryable=True)
        return Sent(message_id, "text")

    async def mark_read(self, event: MessageReceived) -> None:
        """``POST /instances/{instance}/token/{token}/read-message`` (204 when done)."""
        url = f"{self._base}/instances/{event.business_id}/token/{self._token}/read-message"
        payload = {"phone": event.reply_to.id, "messageId": event.provider_message_id}
        status, after, body = await self._http.post(url, payload, self._headers)
        _check("zapi", status, after, body)


# Whaticket's 400s that happen before anything is sent (its WhatsApp session is down, or the
# number check could not run): worth retrying. Others are final; ERR_SENDING_WAPP_MSG too, since
# the message may have left before the error (a double message is the worse outcome).
_WHATICKET_NOT_SENT_YET = frozenset({"ERR_WAPP_NOT_INITIALIZED", "ERR_WAPP_CHECK_CONTACT"})


class WhaticketSender:
    """Whaticket: ``POST /api/messages/send`` with the API token as bearer.

    Body ``{"number", "body"}``; ``number`` must be digits only (Whaticket appends ``@c.us``).
    The answer has no message id: an empty 200 (community edition) or ``{"mensagem": "Mensagem
    enviada"}`` (the SaaS forks). Errors are ``{"error": "<ERR_CODE or text>"}``, mostly 400.
    """

    def __init__(self, http: HttpPool, *, base_url: str, api_token: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_token}"}

    async def send(self, command: SendWhatsAppMessage) -> Sent:
        payload = {"number": whaticket_number(command.to.id), "body": as_text(command.content)}
        status, after, body = await self._http.post(f"{self._base}/api/messages/send", payload, self._headers)
        error = body.get("error") if isinstance(body, dict) else None
        if status == 400 and error in _WHATICKET_NOT_SENT_YET:
            raise SendFailed(f"whaticket 400: {error}", retryable=True)
        _check("whaticket", status, after, body)
        message_id = _first_id(body, ("id",), ("message", "id")) or f"whaticket:{command.message_id}"
        return Sent(message_id, "text")


def whaticket_number(address: str) -> str:
    """The digits Whaticket wants from a phone or a phone JID; a ``@lid`` has none to give."""
    user, _, server = address.removeprefix("+").partition("@")
    if server not in ("", "s.whatsapp.net", "c.us") or not user.isdigit():
        raise SendFailed(f"whaticket sends to phone numbers only, not {address!r}", retryable=False)
    return user
