"""The parts of Meta's webhook envelope we read (unknown fields are kept, never required).

Only the envelope is validated as a whole; each message, status and echo is validated on its own,
so one odd item never costs the others.
"""

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


class Media(_Loose):
    id: str | None = None
    link: str | None = None
    url: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False


class Reply(_Loose):
    id: str | None = None
    title: str | None = None


class FlowReply(_Loose):
    response_json: str | None = None
    body: str | None = None
    name: str | None = None


class Interactive(_Loose):
    type: str
    button_reply: Reply | None = None
    list_reply: Reply | None = None
    nfm_reply: FlowReply | None = None


class Button(_Loose):
    payload: str | None = None
    text: str | None = None


class Context(_Loose):
    id: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False


class LocationPart(_Loose):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class ReactionPart(_Loose):
    message_id: str
    emoji: str | None = None


class ContactName(_Loose):
    formatted_name: str | None = None


class ContactPhone(_Loose):
    phone: str | None = None
    wa_id: str | None = None


class SharedContactPart(_Loose):
    name: ContactName | None = None
    phones: list[ContactPhone] = Field(default_factory=list)


class System(_Loose):
    body: str | None = None
    type: str | None = None


class Order(_Loose):
    text: str | None = None


class Message(_Loose):
    id: str
    type: str
    timestamp: int
    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    text: Text | None = None
    image: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    interactive: Interactive | None = None
    button: Button | None = None
    context: Context | None = None
    location: LocationPart | None = None
    reaction: ReactionPart | None = None
    contacts: list[SharedContactPart] = Field(default_factory=list)
    system: System | None = None
    order: Order | None = None


class Echo(_Loose):
    """``smb_message_echoes``: a person at the business wrote from the WhatsApp Business app."""

    id: str
    timestamp: int
    to: str | None = None
    to_user_id: str | None = None
    text: Text | None = None


class StatusError(_Loose):
    code: int | None = None
    title: str | None = None
    message: str | None = None
    error_data: dict[str, Any] | None = None


class Status(_Loose):
    id: str
    status: str
    timestamp: int
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    biz_opaque_callback_data: str | None = None
    errors: list[StatusError] = Field(default_factory=list)


class Value(_Loose):
    metadata: Metadata | None = None
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    statuses: list[dict[str, Any]] = Field(default_factory=list)
    message_echoes: list[dict[str, Any]] = Field(default_factory=list)


class Change(_Loose):
    field: str
    value: dict[str, Any] = Field(default_factory=dict)


class Entry(_Loose):
    id: str
    changes: list[Change] = Field(default_factory=list)


class Webhook(_Loose):
    object: str
    entry: list[Entry] = Field(default_factory=list)
