"""Where e-mail goes: an SMTP server (TLS or STARTTLS, auth from the environment), or the log.

A send is two steps: ``session()`` connects (TCP, EHLO, STARTTLS, AUTH: nothing is sent yet) and
``Session.send`` hands the message over (MAIL, RCPT, DATA). The delivery log claims the send
between the two, so a crash while connecting leaves nothing that could have gone out; only the
hand-over is in the window a crash leaves ``unknown`` (``notifier.service``). A failure to connect
is raised by ``send``, where the attempt is counted and retried like any other failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from typing import Protocol

import aiosmtplib

from common.logging import get_logger
from notifier.errors import SendFailed

log = get_logger(__name__)


class Session(Protocol):
    async def send(self, message: Message) -> str:
        """Hand the message over; return the server's answer (raises ``SendFailed``)."""
        ...


class Mailer(Protocol):
    def session(self) -> AbstractAsyncContextManager[Session]: ...


def _failure(exc: Exception) -> SendFailed:
    """Refused recipients or a 5xx are permanent; anything else is worth another try."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return SendFailed(f"smtp refused the recipient: {exc}", retryable=False)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendFailed(f"smtp {exc.code}: {exc.message}", retryable=exc.code < 500)
    return SendFailed(f"smtp unreachable: {exc!r}", retryable=True)


_SMTP_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


@dataclass
class _SmtpSession:
    client: aiosmtplib.SMTP
    failed: SendFailed | None  # connecting failed: raised on send

    async def send(self, message: Message) -> str:
        if self.failed is not None:
            raise self.failed
        try:
            _, answer = await self.client.send_message(message)
        except _SMTP_ERRORS as exc:
            raise _failure(exc) from exc
        return str(message["Message-ID"]) + f" ({answer})"


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # implicit TLS (port 465)
    start_tls: bool | None = None  # None: STARTTLS when the server offers it
    timeout_s: float = 20.0
    local_hostname: str | None = None  # EHLO name (None: the host's FQDN, looked up per connection)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=self.timeout_s,
            local_hostname=self.local_hostname,
        )
        failed = None
        try:
            await client.connect()
        except _SMTP_ERRORS as exc:
            failed = _failure(exc)
        try:
            yield _SmtpSession(client, failed)
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except _SMTP_ERRORS:
                    client.close()


class _LogSession:
    async def send(self, message: Message) -> str:
        log.warning(
            "email.logged_not_sent",
            to=_readable(message["To"]),
            subject=_readable(message["Subject"]),
            message=message.as_string(),
        )
        return str(message["Message-ID"])


def _readable(header: str) -> str:
    """A header as people read it (the message carries it RFC 2047-encoded)."""
    return str(make_header(decode_header(header)))


class LogMailer:
    """No SMTP_HOST (development): the whole e-mail is written to the log, never dropped."""

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        yield _LogSession()
