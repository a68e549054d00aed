"""What a sender is, and the HTTP answer rules every gateway shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from common.contracts import (
    ButtonsContent,
    ListContent,
    MessageReceived,
    Provider,
    SendWhatsAppMessage,
    TemplateContent,
    TextContent,
)
from common.contracts.notifier import Content
from notifier.errors import SendFailed


@dataclass(frozen=True)
class Sent:
    provider_message_id: str
    kind: str  # what actually went out: text, buttons, list, template


class Sender(Protocol):
    async def send(self, command: SendWhatsAppMessage) -> Sent: ...


@runtime_checkable
class ReadMarker(Protocol):
    """A gateway whose API can mark a received message read (raises ``SendFailed`` if refused)."""

    async def mark_read(self, event: MessageReceived) -> None: ...


class Senders:
    """The configured senders by provider; a provider without one is a permanent failure."""

    def __init__(self, senders: Mapping[Provider, Sender]) -> None:
        self._senders = dict(senders)
        self._readers = {p: s for p, s in self._senders.items() if isinstance(s, ReadMarker)}

    def reader(self, provider: Provider) -> ReadMarker | None:
        """The provider's way to mark messages read; None when its API has none (or no sender)."""
        return self._readers.get(provider)

    async def send(self, command: SendWhatsAppMessage) -> Sent:
        sender = self._senders.get(command.provider)
        if sender is None:
            # Kept in the DLQ (replayable once configured), never sent through another gateway.
            raise SendFailed(f"no sender configured for provider {command.provider.value}", retryable=False)
        return await sender.send(command)


def retryable_status(status: int) -> bool:
    return status == 429 or status >= 500 or status == 408


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is rare from these APIs and ignored)."""
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def as_text(content: Content) -> str:
    """Gateways without interactive messages get the options as a numbered text."""
    match content:
        case TextContent():
            return content.body
        case ButtonsContent():
            options = [b.title for b in content.buttons]
        case ListContent():
            options = [r.title + (f" — {r.description}" if r.description else "") for r in content.rows]
        case TemplateContent():
            raise SendFailed("templates exist only on the Meta Cloud API", retryable=False)
    lines = "\n".join(f"{n}. {option}" for n, option in enumerate(options, start=1))
    return f"{content.body}\n\n{lines}"
