"""Where e-mail goes: an SMTP server (TLS or STARTTLS, auth from the environment), or the log."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from common.logging import get_logger
from notifier.errors import SendFailed

log = get_logger(__name__)


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> str: ...


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # implicit TLS (port 465)
    start_tls: bool | None = None  # None: STARTTLS when the server offers it
    timeout_s: float = 20.0

    async def send(self, message: EmailMessage) -> str:
        """Send; return the server's answer. Refused recipients or a 5xx are permanent."""
        try:
            _, answer = await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                start_tls=self.start_tls,
                timeout=self.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(f"smtp refused the recipient: {exc}", retryable=False) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise SendFailed(f"smtp {exc.code}: {exc.message}", retryable=exc.code < 500) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendFailed(f"smtp unreachable: {exc!r}", retryable=True) from exc
        return str(message["Message-ID"]) + f" ({answer})"


class LogMailer:
    """No SMTP_HOST (development): the whole e-mail is written to the log, never dropped."""

    async def send(self, message: EmailMessage) -> str:
        log.warning(
            "email.logged_not_sent",
            to=str(message["To"]),
            subject=str(message["Subject"]),
            message=message.as_string(),
        )
        return str(message["Message-ID"])
