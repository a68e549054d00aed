"""Conversation settings (environment variables, see ``.env.example``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from common.settings import RedisSettings, ServiceSettings
from conversation.knowledge import DEFAULT_EVENT_FILE


class ConversationSettings(ServiceSettings, RedisSettings):
    port: int = 8001
    event_file: Path = Field(default=DEFAULT_EVENT_FILE, description="The event knowledge file (YAML).")
    session_ttl_s: int = Field(default=90 * 24 * 3600, gt=0, description="Idle sessions expire.")
    # The LLM (any OpenAI-compatible server). Without a key the offline engine answers.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
