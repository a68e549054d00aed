"""Requests to the registration service (request/reply over the broker) and their replies.

Requests are contracts like any other (routing key, version, id); the registration service answers
each on the AMQP ``reply_to`` of the request with the matching ``*Reply`` model. Full CPFs travel
only inside these requests, never in events or replies.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from common.contracts.base import Contract, ReplyAddress
from common.contracts.ingress import Provider

CPF_PATTERN = r"^\d{11}$"


class _Reply(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ERASED = "erased"


class CheckIdentity(Contract):
    """Is this CPF or e-mail already registered for the event (asked while the form is filled)?"""

    ROUTING_KEY: ClassVar[str] = "registration.check_identity"

    event_id: str = Field(min_length=1)
    conversation_key: str = Field(min_length=1)
    cpf: str | None = Field(default=None, pattern=CPF_PATTERN, description="11 digits.")
    email: str | None = Field(default=None, description="Normalised, lower-case.")


class IdentityCheckReply(_Reply):
    taken: bool = Field(description="Someone holds this CPF/e-mail in an active registration.")
    same_conversation: bool = Field(
        default=False, description="The holder registered through this very conversation."
    )


class SubmitRegistration(Contract):
    """Register a participant with the confirmed form. Idempotent on ``message_id``."""

    ROUTING_KEY: ClassVar[str] = "registration.submit"

    event_id: str = Field(min_length=1)
    provider: Provider
    conversation_key: str = Field(min_length=1)
    full_name: str = Field(min_length=3, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    cpf: str = Field(pattern=CPF_PATTERN)
    phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{7,14}$", description="E.164.")
    city: str = Field(min_length=1, max_length=120)
    city_ibge_code: int | None = None
    uf: str = Field(min_length=2, max_length=2)
    profile: str = Field(min_length=1, max_length=64)
    consent_version: str = Field(min_length=1, max_length=32)
    consented_at: datetime
    business_id: str | None = Field(default=None, description="The business number they wrote to.")
    reply_to: ReplyAddress | None = Field(
        default=None, description="Where WhatsApp messages about this registration go (the chat's id)."
    )


class SubmitOutcome(StrEnum):
    CREATED = "created"
    ALREADY_REGISTERED = "already_registered"  # the same person, same conversation: idempotent
    CPF_TAKEN = "cpf_taken"
    EMAIL_TAKEN = "email_taken"


class SubmitReply(_Reply):
    outcome: SubmitOutcome
    code: str | None = Field(default=None, description="The registration code (when registered).")
    status: RegistrationStatus | None = None


class FindRegistration(Contract):
    """The registration made through this conversation, if any."""

    ROUTING_KEY: ClassVar[str] = "registration.find"

    event_id: str = Field(min_length=1)
    conversation_key: str = Field(min_length=1)


class RegistrationView(_Reply):
    """What a participant may see of their own registration (CPF masked)."""

    found: bool
    code: str | None = None
    status: RegistrationStatus | None = None
    full_name: str | None = None
    email: str | None = None
    cpf_masked: str | None = Field(default=None, description="***.456.789-**")
    profile: str | None = None
    registered_at: datetime | None = None


class CancelRegistration(Contract):
    """Cancel the registration made through this conversation (the person confirmed it)."""

    ROUTING_KEY: ClassVar[str] = "registration.cancel"

    event_id: str = Field(min_length=1)
    conversation_key: str = Field(min_length=1)
    code: str = Field(min_length=1)


class CancelOutcome(StrEnum):
    CANCELLED = "cancelled"
    ALREADY_CANCELLED = "already_cancelled"
    NOT_FOUND = "not_found"


class CancelReply(_Reply):
    outcome: CancelOutcome
    code: str | None = None


class UpdateContact(Contract):
    """Change the contact data of the registration made through this conversation (the person
    confirmed it). Fields left out stay as they are."""

    ROUTING_KEY: ClassVar[str] = "registration.update_contact"

    event_id: str = Field(min_length=1)
    conversation_key: str = Field(min_length=1)
    code: str = Field(min_length=1)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{7,14}$", description="E.164.")


class UpdateOutcome(StrEnum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    EMAIL_TAKEN = "email_taken"
    NOT_FOUND = "not_found"


class UpdateReply(_Reply):
    outcome: UpdateOutcome
    code: str | None = None
    changed: list[str] = Field(default_factory=list)


class RegistrationEvent(Contract):
    """What every ``registration.*`` event carries. Never a full CPF; ``message_id`` is the
    subscriber's dedupe key; ``event_id`` is the congress (the event people register for)."""

    ROUTING_KEY: ClassVar[str] = "registration.*"  # each event below has its own

    event_id: str = Field(min_length=1)
    registration_id: uuid.UUID
    code: str
    status: RegistrationStatus
    profile: str
    uf: str
    provider: Provider | None = None
    business_id: str | None = None
    conversation_key: str | None = None
    reply_to: ReplyAddress | None = None


class RegistrationCompleted(RegistrationEvent):
    """Someone registered (``status`` confirmed, or waitlisted when the event or profile is full)."""

    ROUTING_KEY: ClassVar[str] = "registration.completed"

    full_name: str
    email: str
    phone: str | None = None
    city: str
    cpf_masked: str = Field(description="***.456.789-**")
    registered_at: datetime


class RegistrationPromoted(RegistrationEvent):
    """A place freed up: a waitlisted registration is now confirmed."""

    ROUTING_KEY: ClassVar[str] = "registration.promoted"

    full_name: str
    email: str


class RegistrationCancelled(RegistrationEvent):
    """A registration was cancelled (by the person, or by an organiser through the admin API)."""

    ROUTING_KEY: ClassVar[str] = "registration.cancelled"

    full_name: str
    email: str
    cancelled_by: str = Field(description="'participant' or the admin token's name.")


class RegistrationUpdated(RegistrationEvent):
    """Contact data changed (only the fields listed in ``changed``)."""

    ROUTING_KEY: ClassVar[str] = "registration.updated"

    changed: list[str]
    email: str
    phone: str | None = None


class RegistrationErased(RegistrationEvent):
    """LGPD erasure: the person's data is gone; only the anonymous aggregate (profile, UF) stays."""

    ROUTING_KEY: ClassVar[str] = "registration.erased"


def submission_id(conversation_key: str, fields: str) -> uuid.UUID:
    """Deterministic id of a submit: the same confirmed form from the same chat is one command."""
    return uuid.uuid5(_SUBMIT_NAMESPACE, f"{conversation_key}\n{fields}")


_SUBMIT_NAMESPACE = uuid.UUID("0b8f6f1e-5a0a-4b8e-9c55-6a7c2f9d1e3a")
