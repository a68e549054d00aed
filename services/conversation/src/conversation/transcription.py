"""Voice notes to text (the OpenAI audio API when configured)."""

from __future__ import annotations

from typing import Protocol

from common.contracts import MessageReceived


class Transcriber(Protocol):
    async def transcribe(self, message: MessageReceived) -> str | None:
        """The text of a voice note, or None when it cannot be had (never raises)."""
        ...
