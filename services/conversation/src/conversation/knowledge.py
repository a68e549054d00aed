"""The event knowledge file (``EVENT_FILE``, YAML): the only source of answers about the event.

It is validated when the service starts; a broken file stops the service instead of letting the
bot answer from half a file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_EVENT_FILE = Path(__file__).parent / "data" / "event.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Contact(_Model):
    email: str | None = None
    whatsapp: str | None = None
    phone: str | None = None


class EventInfo(_Model):
    id: str
    name: str
    short_name: str
    edition: str | None = None
    description: str
    timezone: str = "America/Sao_Paulo"
    starts_on: date
    ends_on: date
    website: str | None = None
    contact: Contact = Contact()
    privacy_policy_url: str
    consent_version: str


class Venue(_Model):
    name: str
    address: str
    city: str
    uf: str = Field(min_length=2, max_length=2)
    postal_code: str | None = None
    maps_url: str | None = None
    how_to_get_there: str | None = None
    parking: str | None = None
    accessibility: str | None = None


class ProgrammeSession(_Model):
    id: str
    starts_at: str
    ends_at: str
    title: str
    kind: str
    room: str | None = None
    speakers: list[str] = Field(default_factory=list)
    summary: str | None = None


class Day(_Model):
    date: date
    title: str
    sessions: list[ProgrammeSession]


class Speaker(_Model):
    id: str
    name: str
    title: str | None = None
    organization: str | None = None
    bio: str | None = None
    topics: list[str] = Field(default_factory=list)


class PriceItem(_Model):
    profile: str
    amount: float = Field(ge=0)


class Lot(_Model):
    id: str
    name: str
    valid_until: date
    items: list[PriceItem]


class Prices(_Model):
    currency: str = "BRL"
    lots: list[Lot]
    notes: list[str] = Field(default_factory=list)
    refund_policy: str | None = None


class Profile(_Model):
    id: str
    label: str
    description: str | None = None


class Faq(_Model):
    id: str
    question: str
    answer: str
    keywords: list[str] = Field(default_factory=list)


class EventKnowledge(_Model):
    version: int
    event: EventInfo
    venue: Venue
    days: list[Day]
    speakers: list[Speaker]
    prices: Prices
    profiles: list[Profile]
    faq: list[Faq]

    @model_validator(mode="after")
    def _references_resolve(self) -> EventKnowledge:
        speakers = {s.id for s in self.speakers}
        missing = {
            ref for day in self.days for s in day.sessions for ref in s.speakers if ref not in speakers
        }
        profiles = {p.id for p in self.profiles}
        missing |= {i.profile for lot in self.prices.lots for i in lot.items if i.profile not in profiles}
        if missing:
            raise ValueError(f"unknown speaker/profile ids: {sorted(missing)}")
        if self.event.ends_on < self.event.starts_on:
            raise ValueError("event ends before it starts")
        return self


def load_event(path: Path) -> EventKnowledge:
    with path.open(encoding="utf-8") as f:
        return EventKnowledge.model_validate(yaml.safe_load(f))
