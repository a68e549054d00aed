"""Meta Cloud API: ``POST /{version}/{phone_number_id}/messages`` with a bearer token.

Outside the 24-hour customer-service window Meta refuses free-form messages with error 131047.
The notifier does not see inbound messages, so it cannot know the window beforehand: it sends,
and on 131047 sends the configured re-engagement template instead (when one is configured).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.contracts import (
    AddressKind,
    ButtonsContent,
    ListContent,
    SendWhatsAppMessage,
    TemplateContent,
    TextContent,
)
from common.contracts.notifier import Content
from notifier.errors import SendFailed
from notifier.senders.base import Sent, retry_after, retryable_status
from notifier.senders.http import HttpPool

# Meta error codes that mean "try again later" even on a 4xx (130429 throughput, 131056 pair rate).
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056})
OUTSIDE_WINDOW = 131047  # re-engagement: more than 24 h since the user last wrote


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
    ) -> None:
        self._http = http
        self._base = f"{base_url.rstrip('/')}/{version}"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._reengage = reengage

    async def send(self, command: SendWhatsAppMessage) -> Sent:
        """Send from the business number the conversation came through (its phone_number_id)."""
        try:
            return await self._post(command, command.content)
        except SendFailed as failure:
            if failure.code != OUTSIDE_WINDOW or self._reengage is None:
                raise
        template = TemplateContent(name=self._reengage.name, language=self._reengage.language)
        return await self._post(command, template)

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
