"""What the bot remembers of one conversation between messages (stored as JSON in Redis).

Versioning: ``schema_version`` is what wrote the document and ``min_reader_version`` the oldest
reader that understands it. New fields are additive (an older reader ignores them) and leave
``min_reader_version`` alone; a change an older reader would misread raises it, and such a reader
refuses the document loudly (``SessionTooNew``) rather than guess.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from conversation.domain.form import RegistrationForm
from conversation.domain.understanding import HistoryLine, Option

SCHEMA_VERSION = 2
# Enough to recognise any redelivery the broker can still hold (it redelivers promptly).
PROCESSED_MEMORY = 50
HISTORY_MEMORY = 12  # lines of dialogue an engine may see (this conversation only)


class SessionTooNew(RuntimeError):
    """The stored session was written by a newer release this one cannot read."""


class Step(StrEnum):
    IDLE = "idle"  # nothing pending: the menu is the way forward
    CONSENT = "consent"  # asked for LGPD consent
    FORM = "form"  # asking ``form.asking``
    CONFIRM = "confirm"  # showed the summary, waiting for confirmation or a correction
    RESUME = "resume"  # came back to an abandoned form: continue or restart?
    CANCEL_REGISTRATION = "cancel_registration"  # asked to confirm cancelling a registration


class ChatSession(BaseModel):
    schema_version: int = SCHEMA_VERSION
    min_reader_version: int = 1
    # Bumped by every save; a save names the revision it read and loses to a newer one
    # (``conversation.sessions``). Serialised before any text a user wrote (the store finds it).
    revision: int = 0
    conversation_key: str
    step: Step = Step.IDLE
    form: RegistrationForm = RegistrationForm()
    display_name: str | None = None
    declared_phone: str | None = Field(default=None, description="What the gateway said (E.164).")
    first_seen_at: datetime
    last_seen_at: datetime
    message_count: int = 0
    processed: list[str] = Field(
        default_factory=list, description="Recent provider message ids, to skip redeliveries."
    )
    options: list[Option] = Field(default_factory=list, description="Choices offered last.")
    history: list[HistoryLine] = Field(default_factory=list)
    registration_code: str | None = None
    cancelling_code: str | None = None
    human_active_at: datetime | None = Field(
        default=None, description="Last time a person at the business wrote in this conversation."
    )
    handoff_until: datetime | None = Field(
        default=None, description="The bot stays silent until then (a person is attending)."
    )

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("min_reader_version", 1) > SCHEMA_VERSION:
            raise SessionTooNew(
                f"session written by schema {data.get('schema_version')}, "
                f"needs a reader >= {data['min_reader_version']}; this one is {SCHEMA_VERSION}"
            )
        if data.get("schema_version", 1) == 1:  # v1 knew only "greeted"
            data = {**data, "schema_version": SCHEMA_VERSION, "step": Step.IDLE}
        return data

    @classmethod
    def start(cls, conversation_key: str, at: datetime) -> ChatSession:
        return cls(conversation_key=conversation_key, first_seen_at=at, last_seen_at=at)

    def has_processed(self, provider_message_id: str) -> bool:
        return provider_message_id in self.processed

    def in_handoff(self, now: datetime) -> bool:
        return self.handoff_until is not None and now < self.handoff_until

    def human_replied(self, at: datetime, handoff_for: timedelta) -> ChatSession:
        latest = max(at, self.human_active_at) if self.human_active_at else at
        until = max(latest + handoff_for, self.handoff_until or latest)
        return self.model_copy(update={"human_active_at": latest, "handoff_until": until})

    def released(self) -> ChatSession:
        return self.model_copy(update={"handoff_until": None})

    def record(
        self, provider_message_id: str, at: datetime, display_name: str | None, phone: str | None
    ) -> ChatSession:
        return self.model_copy(
            update={
                "last_seen_at": at,
                "message_count": self.message_count + 1,
                "display_name": display_name or self.display_name,
                "declared_phone": phone or self.declared_phone,
                "processed": [*self.processed, provider_message_id][-PROCESSED_MEMORY:],
            }
        )

    def remember(self, role: str, text: str) -> ChatSession:
        line = HistoryLine(role=role, text=text[:500])
        return self.model_copy(update={"history": [*self.history, line][-HISTORY_MEMORY:]})
