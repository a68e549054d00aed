"""Meta Cloud API: ``POST /{version}/{phone_number_id}/messages`` with a bearer token.

Outside the 24-hour customer-service window Meta refuses free-form messages with error 131047.
When the tracked window (``notifier.window``) is known to be closed, a free-form message goes as
the configured re-engagement template at once; when Meta answers 131047 anyway (our knowledge
was missing or stale), the template goes instead within the same attempt. Without a template
configured both are permanent failures. The same endpoint marks received messages read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from common.contracts import (
    AddressKind,
    ButtonsContent,
    ListContent,
    MessageKind,
    MessageReceived,
    SendWhatsAppMessage,
    TemplateContent,
    TextContent,
)
from common.contracts.notifier import Content
from common.logging import get_logger
from notifier.errors import SendFailed
from notifier.senders.base import Sent, retry_after, retryable_status
from notifier.senders.http import HttpPool
from notifier.window import CustomerWindows, WindowState

log = get_logger(__name__)

# Meta error codes that mean "try again later" even on a 4xx (130429 throughput, 131056 pair rate).
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056})
OUTSIDE_WINDOW = 131047  # re-engagement: more than 24 h since the user last wrote
# Not answered by the bot: a "typing…" for them would promise a reply that never comes.
_UNANSWERED_KINDS = frozenset({MessageKind.REACTION, MessageKind.SYSTEM})
# A read mark that lags (a backlog, a slow Graph API) may come after our reply: a "typing…" then
# would hang under the answer for 25 s. Only fresh messages get one.
TYPING_MAX_AGE = timedelta(seconds=5)


def content_payload(content: Content) -> dict[str, Any]:
    """The Graph API's ``type`` and its object for one kind of content."""
    match content:
        case TextContent():
            return {"type": "text", "text": content.model_dump(exclude={"type"})}
        case ButtonsContent():
            buttons = [{"type": "reply", "reply": b.model_dump()} for b in content.buttons]
            interactive = {"type": "button", "body": {"text": content.body}, "action": {"buttons": buttons}}
            return {"type": "interactive", "interactive": interactive}
        case ListContent():
            rows = [r.model_dump(exclude_none=True) for r in content.rows]
            action = {"button": content.button, "sections": [{"rows": rows}]}
            interactive = {"type": "list", "body": {"text": content.body}, "action": action}
            return {"type": "interactive", "interactive": interactive}
        case TemplateContent():
            template: dict[str, Any] = {"name": content.name, "language": {"code": content.language}}
            if content.body_parameters:
                parameters = [{"type": "text", "text": p} for p in content.body_parameters]
                template["components"] = [{"type": "body", "parameters": parameters}]
            return {"type": "template", "template": template}


def message_payload(command: SendWhatsAppMessage, content: Content | None = None) -> dict[str, Any]:
    recipient_field = "recipient" if command.to.kind is AddressKind.BSUID else "to"
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        recipient_field: command.to.id,
        **content_payload(content or command.content),
        # Echoed back on status webhooks: ties a delivery receipt to this command.
        "biz_opaque_callback_data": str(command.message_id),
    }


@dataclass(frozen=True)
class ReengageTemplate:
    name: str
    language: str = "pt_BR"


class MetaSender:
    def __init__(
        self,
        http: HttpPool,
        *,
        base_url: str,
        version: str,
        access_token: str,
        reengage: ReengageTemplate | None = None,
        windows: CustomerWindows | None = None,
        typing_indicator: bool = False,
    ) -> None:
        self._http = http
        self._base = f"{base_url.rstrip('/')}/{version}"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._reengage = reengage
        self._windows = windows
        self._typing_indicator = typing_indicator

    async def send(self, command: SendWhatsAppMessage) -> Sent:
        """Send from the business number the conversation came through (its phone_number_id)."""
        if not isinstance(command.content, TemplateContent) and await self._known_closed(command):
            if self._reengage is None:
                raise SendFailed(
                    "outside the 24-hour window (the user last wrote more than 24 h ago) and no "
                    "META_REENGAGE_TEMPLATE configured: Meta accepts only templates",
                    retryable=False,
                    code=OUTSIDE_WINDOW,
                )
            log.info("send.reengage", id=str(command.message_id), trigger="window_closed")
            return await self._post(command, self._template(self._reengage))
        try:
            return await self._post(command, command.content)
        except SendFailed as failure:
            if failure.code != OUTSIDE_WINDOW or self._reengage is None:
                raise
        log.info("send.reengage", id=str(command.message_id), trigger=str(OUTSIDE_WINDOW))
        return await self._post(command, self._template(self._reengage))

    async def mark_read(self, event: MessageReceived) -> None:
        """Blue ticks for the user's message (and earlier ones); "typing…" too when configured."""
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": event.provider_message_id,
        }
        fresh = datetime.now(UTC) - event.occurred_at < TYPING_MAX_AGE
        if self._typing_indicator and fresh and event.kind not in _UNANSWERED_KINDS:
            # Shown until our reply arrives or for 25 s at most (Meta's rule).
            payload["typing_indicator"] = {"type": "text"}
        url = f"{self._base}/{event.business_id}/messages"
        status, after, body = await self._http.post(url, payload, self._headers)
        if status >= 300:
            raise _failure(status, after, body)

    async def _known_closed(self, command: SendWhatsAppMessage) -> bool:
        if self._windows is None or command.in_reply_to is not None:
            # A reply to a message the user just sent: that message reopened the window, whatever
            # its record (another queue, maybe not written yet) says. Nothing to ask: Meta decides
            # (and 131047 falls back). Most sends are replies: one Redis read fewer each.
            return False
        return await self._windows.state(command.conversation_key) is WindowState.CLOSED

    @staticmethod
    def _template(reengage: ReengageTemplate) -> TemplateContent:
        return TemplateContent(name=reengage.name, language=reengage.language)

    async def _post(self, command: SendWhatsAppMessage, content: Content) -> Sent:
        url = f"{self._base}/{command.business_id}/messages"
        status, after, body = await self._http.post(url, message_payload(command, content), self._headers)
        if status < 300:
            try:
                return Sent(str(body["messages"][0]["id"]), content.type)
            except (KeyError, IndexError, TypeError) as exc:
                raise SendFailed(f"unexpected graph api answer: {body!r:.200}", retryable=True) from exc
        raise _failure(status, after, body)


def _failure(status: int, after: str | None, body: Any) -> SendFailed:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    message = error.get("message") or str(body)[:200]
    return SendFailed(
        f"graph api {status} (code {code}): {message}",
        retryable=retryable_status(status) or code in RETRYABLE_CODES,
        retry_after_s=retry_after(after),
        code=code,
    )
