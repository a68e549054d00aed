"""What the admin API answers (its OpenAPI document is generated from these)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from common.contracts import RegistrationStatus


class ParticipantOut(BaseModel):
    """A participant as organisers see them: CPF masked."""

    id: uuid.UUID
    code: str
    event_id: str
    status: RegistrationStatus
    full_name: str
    email: str
    cpf_masked: str | None = Field(description="***.456.789-**; null once erased.")
    phone: str | None
    city: str
    uf: str
    profile: str
    provider: str
    consent_version: str
    consented_at: datetime
    waitlist_position: int | None
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    promoted_at: datetime | None


class ParticipantPage(BaseModel):
    items: list[ParticipantOut]
    total: int
    page: int
    page_size: int


class PersonalData(BaseModel):
    """Everything stored about one person (LGPD access request): the only view with the full CPF
    besides the exports."""

    participant: ParticipantOut
    cpf: str | None
    city_ibge_code: int | None
    conversation_key: str
    business_id: str | None
    reply_to: str | None
    events: list[dict[str, object]] = Field(description="The registration.* events about them.")


class Count(BaseModel):
    key: str
    count: int


class DayCount(BaseModel):
    day: date
    count: int


class Stats(BaseModel):
    """Active registrations (confirmed + waitlisted) by profile, UF and day; and the funnel: how many
    of each registration.* event (and, for completed, each outcome) were emitted."""

    total_active: int
    by_status: list[Count]
    by_profile: list[Count]
    by_uf: list[Count]
    by_day: list[DayCount]
    funnel: list[Count]


class Problem(BaseModel):
    detail: str
