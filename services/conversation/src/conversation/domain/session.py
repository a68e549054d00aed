"""What the bot remembers of one conversation between messages."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

# Enough to recognise any redelivery the broker can still hold (it redelivers promptly).
PROCESSED_MEMORY = 50


class ChatSession(BaseModel):
    conversation_key: str
    state: str = "greeted"
    display_name: str | None = None
    first_seen_at: datetime
    last_seen_at: datetime
    message_count: int = 0
    processed: list[str] = Field(
        default_factory=list, description="Recent provider message ids, to skip redeliveries."
    )
    human_active_at: datetime | None = Field(
        default=None, description="Last time a person at the business wrote in this conversation."
    )

    @classmethod
    def start(cls, conversation_key: str, at: datetime) -> ChatSession:
        return cls(conversation_key=conversation_key, first_seen_at=at, last_seen_at=at)

    def has_processed(self, provider_message_id: str) -> bool:
        return provider_message_id in self.processed

    def human_replied(self, at: datetime) -> ChatSession:
        latest = max(at, self.human_active_at) if self.human_active_at else at
        return self.model_copy(update={"human_active_at": latest})

    def record(self, provider_message_id: str, at: datetime, display_name: str | None) -> ChatSession:
        return self.model_copy(
            update={
                "last_seen_at": at,
                "message_count": self.message_count + 1,
                "display_name": display_name or self.display_name,
                "processed": [*self.processed, provider_message_id][-PROCESSED_MEMORY:],
            }
        )
