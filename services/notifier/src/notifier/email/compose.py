"""A registration event → the e-mail to its participant (pure: no I/O but reading templates)."""

from __future__ import annotations

from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from common.contracts import (
    RegistrationCancelled,
    RegistrationCompleted,
    RegistrationPromoted,
    RegistrationStatus,
)
from notifier.email.attachments import calendar_invite, qr_png
from notifier.email.event_facts import EventFacts

RegistrationMail = RegistrationCompleted | RegistrationPromoted | RegistrationCancelled

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(("html.j2",), default_for_string=False, default=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
_MONTHS = (
    "janeiro", "fevereiro", "março", "abril", "maio", "junho",
    "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
)  # fmt: skip
QR_CID = "qr-inscricao"


class MailKind(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"


SUBJECTS = {
    MailKind.CONFIRMED: "Inscrição confirmada — {event} (código {code})",
    MailKind.WAITLISTED: "Você está na lista de espera — {event} (código {code})",
    MailKind.PROMOTED: "Vaga confirmada! — {event} (código {code})",
    MailKind.CANCELLED: "Inscrição cancelada — {event} (código {code})",
}
_WITH_TICKET = (MailKind.CONFIRMED, MailKind.PROMOTED)  # a place: QR code and calendar invite


def mail_kind(event: RegistrationMail) -> MailKind:
    match event:
        case RegistrationCompleted():
            waitlisted = event.status is RegistrationStatus.WAITLISTED
            return MailKind.WAITLISTED if waitlisted else MailKind.CONFIRMED
        case RegistrationPromoted():
            return MailKind.PROMOTED
        case RegistrationCancelled():
            return MailKind.CANCELLED


def pt_br_dates(start: date, end: date) -> str:
    """``18 a 20 de maio de 2027`` (or across months / years, spelled out)."""
    if start == end:
        return f"{start.day} de {_MONTHS[start.month - 1]} de {start.year}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day} a {end.day} de {_MONTHS[end.month - 1]} de {end.year}"
    if start.year == end.year:
        return (
            f"{start.day} de {_MONTHS[start.month - 1]} a {end.day} de {_MONTHS[end.month - 1]} de {end.year}"
        )
    return f"{pt_br_dates(start, start)} a {pt_br_dates(end, end)}"


def compose(event: RegistrationMail, facts: EventFacts, *, sender: str, now: datetime) -> EmailMessage:
    """multipart/mixed: alternative(plain, related(html, QR png)) + the .ics, when there is a place."""
    kind = mail_kind(event)
    subject = SUBJECTS[kind].format(event=facts.event.name, code=event.code)
    context = {
        "subject": subject,
        "first_name": event.full_name.split()[0] if event.full_name.strip() else event.full_name,
        "code": event.code,
        "facts": facts,
        "dates": pt_br_dates(facts.event.starts_on, facts.event.ends_on),
        "qr_cid": QR_CID,
    }
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = Address(display_name=event.full_name, addr_spec=event.email)
    message["Date"] = format_datetime(now)
    # Stable per event: a re-send after the unclosable window is recognisable as the same mail.
    message["Message-ID"] = f"<{event.message_id}@congress-bot>"
    message["Content-Language"] = "pt-BR"
    message.set_content(_TEMPLATES.get_template(f"{kind}.txt.j2").render(context))
    message.add_alternative(_TEMPLATES.get_template(f"{kind}.html.j2").render(context), subtype="html")
    if kind in _WITH_TICKET:
        html = message.get_body(preferencelist=("html",))
        if html is None:  # set just above: cannot happen
            raise RuntimeError("the HTML part is missing")
        html.add_related(qr_png(event.code), "image", "png", cid=f"<{QR_CID}>", filename="qrcode.png")
        invite = calendar_invite(facts, code=event.code, attendee_email=event.email, now=now)
        message.add_attachment(
            invite, maintype="text", subtype="calendar", filename="convite.ics", params={"method": "PUBLISH"}
        )
    return message
