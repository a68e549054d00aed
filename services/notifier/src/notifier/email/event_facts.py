"""The few facts about the congress an e-mail needs, read from the event file (YAML).

The registration events carry no dates or venue. The conversation service owns the event file;
services do not import each other, so this reads the same file (``EVENT_FILE``) with a model of
only the fields used here: the rest of the file may change freely.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict


class _Lenient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Contact(_Lenient):
    email: str | None = None


class Event(_Lenient):
    id: str
    name: str
    timezone: str = "America/Sao_Paulo"
    starts_on: date
    ends_on: date
    website: str | None = None
    contact: Contact = Contact()


class Venue(_Lenient):
    name: str
    address: str
    city: str
    uf: str
    maps_url: str | None = None

    @property
    def one_line(self) -> str:
        return f"{self.name}, {self.address}, {self.city}/{self.uf}"


class EventFacts(_Lenient):
    event: Event
    venue: Venue


def load_event_facts(path: Path) -> EventFacts:
    """Fails loudly (at start) when the file is missing or lacks a field used here."""
    with path.open(encoding="utf-8") as file:
        return EventFacts.model_validate(yaml.safe_load(file))
