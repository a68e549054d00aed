"""Voice notes to text, through the ``openai`` audio API, so they are handled like typed messages.

The audio is fetched from the gateway (Meta: media id → Graph API → download URL, both with the
bearer token; other gateways: the URL they sent). Any failure gives ``None`` and a log line, never
an exception: the state machine then asks for text, as it does when transcription is off.
"""

from __future__ import annotations

import asyncio
from typing import Protocol
from urllib.parse import quote

import aiohttp
import openai
from openai import AsyncOpenAI

from common.contracts import MessageKind, MessageReceived, Provider
from common.logging import get_logger
from conversation.config import ConversationSettings

log = get_logger(__name__)

MAX_AUDIO_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for audio
# Extensions the transcription API accepts; WhatsApp voice notes are Ogg/Opus.
_EXTENSIONS = {
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/m4a": "m4a",
    "audio/aac": "m4a",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/webm": "webm",
    "audio/flac": "flac",
}


class Transcriber(Protocol):
    async def transcribe(self, message: MessageReceived) -> str | None:
        """The text of a voice note, or None when it cannot be had (never raises)."""
        ...


class MediaUnavailable(Exception):
    pass


class MediaFetcher:
    """Downloads a message's media; the Meta token goes to Meta's URLs only, never to other gateways."""

    def __init__(self, *, graph_url: str, graph_version: str, access_token: str | None) -> None:
        self._graph = f"{graph_url.rstrip('/')}/{graph_version}"
        self._meta_auth = {"Authorization": f"Bearer {access_token}"} if access_token else None

    async def fetch(self, message: MessageReceived) -> tuple[bytes, str]:
        """The media's bytes and MIME type; raises ``MediaUnavailable`` or ``aiohttp.ClientError``."""
        media = message.media
        if media is None:
            raise MediaUnavailable("the message has no media")
        meta = message.provider is Provider.META
        if meta and self._meta_auth is None:
            raise MediaUnavailable("META_ACCESS_TOKEN is not set")
        auth = self._meta_auth if meta else None
        async with aiohttp.ClientSession(raise_for_status=True) as session:
            url, mime_type = media.url, media.mime_type
            if url is None and meta and media.id:
                async with session.get(f"{self._graph}/{quote(media.id, safe='')}", headers=auth) as r:
                    info = await r.json(content_type=None)
                url, mime_type = str(info["url"]), info.get("mime_type") or mime_type
            if url is None:
                raise MediaUnavailable("no URL and no Meta media id")
            async with session.get(url, headers=auth) as r:
                if (r.content_length or 0) > MAX_AUDIO_BYTES:
                    raise MediaUnavailable(f"audio too large ({r.content_length} bytes)")
                content = await r.content.read(MAX_AUDIO_BYTES + 1)
                mime_type = mime_type or r.content_type
        if len(content) > MAX_AUDIO_BYTES:
            raise MediaUnavailable("audio too large")
        return content, mime_type or "audio/ogg"


class OpenAiTranscriber:
    def __init__(
        self, client: AsyncOpenAI, *, model: str, fetcher: MediaFetcher, timeout_s: float = 20.0
    ) -> None:
        self._client = client
        self._model = model
        self._fetcher = fetcher
        self._timeout_s = timeout_s

    async def transcribe(self, message: MessageReceived) -> str | None:
        if message.kind is not MessageKind.AUDIO or message.media is None:
            return None
        try:
            async with asyncio.timeout(self._timeout_s):
                content, mime_type = await self._fetcher.fetch(message)
                mime = mime_type.split(";")[0].strip().lower()  # "audio/ogg; codecs=opus"
                filename = message.media.filename or f"voice.{_EXTENSIONS.get(mime, 'ogg')}"
                result = await self._client.audio.transcriptions.create(
                    model=self._model, file=(filename, content, mime), language="pt", timeout=self._timeout_s
                )
        except (MediaUnavailable, aiohttp.ClientError, openai.OpenAIError, TimeoutError, KeyError) as exc:
            log.warning(
                "voice.transcription_failed",
                provider_message_id=message.provider_message_id,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
            return None
        text = result.text.strip()
        return text or None


def build_transcriber(settings: ConversationSettings, client: AsyncOpenAI | None) -> Transcriber | None:
    """None without an OpenAI client: the state machine then asks for text."""
    if client is None:
        return None
    token = settings.meta_access_token.get_secret_value() if settings.meta_access_token else None
    fetcher = MediaFetcher(
        graph_url=settings.meta_graph_url, graph_version=settings.meta_graph_version, access_token=token
    )
    return OpenAiTranscriber(
        client,
        model=settings.openai_transcription_model,
        fetcher=fetcher,
        timeout_s=settings.openai_transcription_timeout_s,
    )
