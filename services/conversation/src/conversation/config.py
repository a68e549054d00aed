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
    openai_api_key: SecretStr | None = Field(
        default=None, description="Turns the LLM engine and voice transcription on."
    )
    openai_base_url: str | None = Field(
        default=None, description="Any OpenAI-compatible server; unset: OpenAI's own API."
    )
    openai_model: str = Field(default="gpt-4o-mini", description="Chat model (tool calls required).")
    openai_timeout_s: float = Field(default=4.0, gt=0, description="One chat completion attempt.")
    openai_max_attempts: int = Field(
        default=3, ge=1, le=10, description="Attempts on 429, 5xx and timeouts before falling back."
    )
    openai_deadline_s: float = Field(
        default=8.0, gt=0, description="All attempts together: past this the offline engine answers."
    )
    openai_breaker_threshold: int = Field(
        default=5, ge=1, description="Consecutive LLM failures that open the circuit."
    )
    openai_breaker_reset_s: float = Field(
        default=30.0, gt=0, description="Open circuit: skip the LLM this long, then try one message."
    )
    openai_transcription_model: str = Field(
        default="gpt-4o-mini-transcribe", description="Voice notes to text (e.g. whisper-1)."
    )
    openai_transcription_timeout_s: float = Field(
        default=20.0, gt=0, description="Fetching a voice note and transcribing it, together."
    )
    # Meta's Graph API, to download voice notes (same variables as the notifier). Without a token,
    # Meta voice notes get the "please write" reply; other gateways send a direct media URL.
    meta_graph_url: str = Field(default="https://graph.facebook.com", description="Graph API base URL.")
    meta_graph_version: str = "v25.0"
    meta_access_token: SecretStr | None = None
