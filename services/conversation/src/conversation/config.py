"""Conversation settings (environment variables, see ``.env.example``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr

from common.settings import RedisSettings, ServiceSettings
from conversation.domain.machine import Policy
from conversation.knowledge import DEFAULT_EVENT_FILE


class ConversationSettings(ServiceSettings, RedisSettings):
    port: int = 8001
    event_file: Path = Field(default=DEFAULT_EVENT_FILE, description="The event knowledge file (YAML).")
    session_ttl_s: int = Field(default=90 * 24 * 3600, gt=0, description="Idle sessions expire.")
    handoff_timeout_s: int = Field(
        default=2 * 3600, gt=0, description="After a handoff the bot is silent this long (or until released)."
    )
    resume_after_s: int = Field(
        default=30 * 60, gt=0, description="A form idle this long is offered to resume or restart."
    )
    registry_timeout_s: float = Field(
        default=5.0, gt=0, description="How long to wait for the registration service's answer."
    )
    conversation_admin_token: SecretStr = Field(
        default=SecretStr("dev-admin-token"), description="Bearer token of the admin API (handoff release)."
    )

    def secrets_to_check(self) -> dict[str, str]:
        return {"CONVERSATION_ADMIN_TOKEN": self.conversation_admin_token.get_secret_value()}

    @property
    def policy(self) -> Policy:
        return Policy(
            handoff_for=timedelta(seconds=self.handoff_timeout_s),
            resume_after=timedelta(seconds=self.resume_after_s),
        )

    # The LLM (any OpenAI-compatible server). Without a key the offline engine answers.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
