"""The parts of Meta's webhook envelope we read (unknown fields are kept, never required)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Profile(_Loose):
    name: str | None = None


class Contact(_Loose):
    wa_id: str | None = None
    user_id: str | None = None
    profile: Profile | None = None


class Metadata(_Loose):
    phone_number_id: str
    display_phone_number: str | None = None


class Text(_Loose):
    body: str


class Message(_Loose):
    id: str
    type: str
    timestamp: int
    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    text: Text | None = None


class Value(_Loose):
    metadata: Metadata | None = None
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    statuses: list[dict[str, Any]] = Field(default_factory=list)


class Change(_Loose):
    field: str
    value: Value


class Entry(_Loose):
    id: str
    changes: list[Change] = Field(default_factory=list)


class Webhook(_Loose):
    object: str
    entry: list[Entry] = Field(default_factory=list)
