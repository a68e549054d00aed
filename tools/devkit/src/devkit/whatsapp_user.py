"""A WhatsApp user for end-to-end tests: posts signed Meta webhooks to a running ingress and reads
the bot's answers to them at the Graph API stand-in (each user has their own number)."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from devkit import samples
from devkit.graph_standin import ReceivedMessage

_numbers = itertools.count(5564990000001)


@dataclass
class WhatsAppUser:
    system: Any  # devkit.pytest_plugin.RunningSystem
    wa_id: str = field(default_factory=lambda: str(next(_numbers)))
    sent: int = 0
    seen: int = 0

    def replies(self) -> list[ReceivedMessage]:
        return [m for m in self.system.graph.messages if m.body.get("to") == self.wa_id]

    async def _post(self, body: bytes) -> str:
        await self.post(body)
        return await self._next_reply()

    async def post(self, body: bytes) -> None:
        async with httpx.AsyncClient(base_url=self.system.ingress_url, timeout=10) as client:
            r = await client.post(
                "/webhooks/meta",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": samples.meta_signature(self.system.app_secret, body),
                },
            )
        assert r.status_code == 200, r.text

    async def _next_reply(self, timeout: float = 15) -> str:
        """The bot's answer to what was just sent: every new message to this user, once it is quiet."""
        deadline = time.monotonic() + timeout
        while len(self.replies()) <= self.seen:
            assert time.monotonic() < deadline, "no reply"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.15)  # a turn may be more than one message
        new = self.replies()[self.seen :]
        self.seen += len(new)
        return "\n---\n".join(m.text for m in new)

    def next_wamid(self) -> str:
        self.sent += 1
        return f"wamid.script.{self.wa_id}.{self.sent}"

    async def say(self, text: str) -> str:
        return await self._post(samples.meta_text(text, wamid=self.next_wamid(), wa_id=self.wa_id))

    async def tap(self, option_id: str, title: str) -> str:
        return await self._post(
            samples.meta_button_reply(option_id, title, wamid=self.next_wamid(), wa_id=self.wa_id)
        )

    async def send_media(self, kind: str, *, voice: bool = False) -> str:
        return await self._post(
            samples.meta_media(kind, wamid=self.next_wamid(), wa_id=self.wa_id, voice=voice)
        )

    async def silence(self, seconds: float = 1.0) -> bool:
        await asyncio.sleep(seconds)
        return len(self.replies()) == self.seen
