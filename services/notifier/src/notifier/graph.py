"""Meta Graph API client: ``POST /{version}/{phone_number_id}/messages`` with a bearer token."""

from __future__ import annotations

from typing import Any

import aiohttp
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from opentelemetry.trace import TracerProvider

from common.contracts import (
    AddressKind,
    ButtonsContent,
    ListContent,
    Provider,
    SendWhatsAppMessage,
    TextContent,
)
from common.contracts.notifier import Content
from notifier.errors import SendFailed

# Meta error codes that mean "try again later" even on a 4xx.
_RETRYABLE_CODES = {1, 2, 4, 80007, 130429, 131000, 131016, 131056}


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


def message_payload(command: SendWhatsAppMessage) -> dict[str, Any]:
    recipient_field = "recipient" if command.to.kind is AddressKind.BSUID else "to"
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        recipient_field: command.to.id,
        **content_payload(command.content),
        # Echoed back on status webhooks: ties a delivery receipt to this command.
        "biz_opaque_callback_data": str(command.message_id),
    }


class GraphClient:
    """One pooled HTTP session for the service's lifetime (``start``/``close`` in the lifespan)."""

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        phone_number_id: str,
        access_token: str,
        timeout_s: float,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/{version}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._tracer_provider = tracer_provider
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # The trace config carries `traceparent` to the provider and records a client span.
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            trace_configs=[create_trace_config(tracer_provider=self._tracer_provider)],
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("GraphClient.start() was not called")
        return self._session

    async def send(self, command: SendWhatsAppMessage) -> str:
        """Send and return the provider's message id (wamid); raise ``SendFailed``."""
        if command.provider is not Provider.META:
            # Other gateways' senders come with the notifier's own issue; until then the command
            # is dead-lettered (kept, replayable), never sent to the wrong API.
            raise SendFailed(f"no sender for provider {command.provider.value} yet", retryable=False)
        try:
            async with self.session.post(
                self._url, json=message_payload(command), headers=self._headers
            ) as response:
                body = await response.json(content_type=None)
                if response.status < 300:
                    return str(body["messages"][0]["id"])
                raise _failure(response.status, response.headers.get("Retry-After"), body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendFailed(f"graph api unreachable: {exc!r}", retryable=True) from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise SendFailed(f"unexpected graph api answer: {exc!r}", retryable=True) from exc


def _failure(status: int, retry_after: str | None, body: Any) -> SendFailed:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = error.get("code")
    retryable = status == 429 or status >= 500 or code in _RETRYABLE_CODES
    delay = float(retry_after) if retry_after and retry_after.isdigit() else None
    message = error.get("message") or str(body)[:200]
    return SendFailed(
        f"graph api {status} (code {code}): {message}", retryable=retryable, retry_after_s=delay
    )
