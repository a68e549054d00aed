"""What goes with a confirmation: the code as a QR image and a calendar invite."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta

import segno
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from notifier.email.event_facts import EventFacts

_ICS_NAMESPACE = uuid.UUID("3c2b7f0a-93d4-4f4e-8a57-2f1c9d6e4b11")


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def calendar_invite(facts: EventFacts, *, code: str, attendee_email: str, now: datetime) -> bytes:
    """An all-day event over the congress's days (its programme's hours live on the website).

    The UID is stable per registration so a re-sent invite updates the same calendar entry.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//congress-bot//notifier//PT-BR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = CalendarEvent()
    event.add("uid", f"{uuid.uuid5(_ICS_NAMESPACE, facts.event.id + code)}@congress-bot")
    event.add("dtstamp", now)
    event.add("summary", facts.event.name)
    event.add("dtstart", facts.event.starts_on)
    event.add("dtend", facts.event.ends_on + timedelta(days=1))  # DTEND of a date is exclusive
    event.add("location", facts.venue.one_line)
    description = f"Inscrição {code}. Apresente o QR code do e-mail de confirmação no credenciamento."
    event.add("description", description)
    if facts.event.website:
        event.add("url", facts.event.website)
    event.add("attendee", f"mailto:{attendee_email}")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
