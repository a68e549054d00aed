"""A local SMTP stand-in: speaks enough SMTP (RFC 5321) for a client to deliver mail, records
every message, and can be down for a while (the port refuses connections), for fault scenarios.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cached_property


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    arrived_at: float

    @cached_property
    def message(self) -> EmailMessage:
        """Parsed when first asked for: the load's accounting reads only the envelope, and parsing
        every MIME e-mail as it arrives cost the load generator more than receiving it."""
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)  # the default policy builds EmailMessage
        return parsed


@dataclass
class SmtpStandin:
    host: str = "127.0.0.1"
    port: int = 0
    mails: list[Mail] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._session, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def down_for(self, seconds: float) -> None:
        """Refuse connections for ``seconds`` (the listener is closed), then listen again."""
        await self.stop()
        try:
            await asyncio.sleep(seconds)
        finally:
            await self.start()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(f"{line}\r\n".encode())
            await writer.drain()

        sender, recipients = "", list[str]()
        await say("220 smtp-standin ESMTP")
        try:
            while raw := await reader.readline():
                verb = raw.decode(errors="replace").strip().split(" ", 1)[0].upper()
                argument = raw.decode(errors="replace").strip()[len(verb) :].strip()
                if verb in ("EHLO", "HELO"):
                    await say("250-smtp-standin\r\n250 8BITMIME" if verb == "EHLO" else "250 smtp-standin")
                elif verb == "MAIL":
                    sender, recipients = argument.partition(":")[2].strip(" <>"), []
                    await say("250 OK")
                elif verb == "RCPT":
                    recipients.append(argument.partition(":")[2].strip(" <>"))
                    await say("250 OK")
                elif verb == "DATA":
                    await say("354 End data with <CR><LF>.<CR><LF>")
                    body = bytearray()
                    while (line := await reader.readline()) not in (b".\r\n", b".\n", b""):
                        body += line[1:] if line.startswith(b"..") else line
                    self.mails.append(Mail(sender, tuple(recipients), bytes(body), time.perf_counter()))
                    await say("250 OK queued")
                elif verb == "QUIT":
                    await say("221 Bye")
                    break
                elif verb in ("RSET", "NOOP"):
                    await say("250 OK")
                else:
                    await say("502 Command not implemented")
        finally:
            writer.close()
