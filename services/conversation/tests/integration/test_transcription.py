"""Voice notes: fetched from the gateway, transcribed by the OpenAI stand-in, over real HTTP."""

import pytest
from aiohttp import web
from openai import AsyncOpenAI
from pydantic import SecretStr

from common.contracts import MediaRef, MessageKind, Provider
from conversation.config import ConversationSettings
from conversation.transcription import MediaFetcher, OpenAiTranscriber, build_transcriber
from devkit import factories, infra
from devkit.openai_standin import Status, Transcript

pytestmark = pytest.mark.integration

OGG = b"OggS\x00\x02fake-opus-voice-note"


def voice_note(provider=Provider.META, **media):
    return factories.message_received(
        provider=provider, kind=MessageKind.AUDIO, text=None, media=MediaRef(voice=True, **media)
    )


@pytest.fixture
async def client(openai_api):
    async with AsyncOpenAI(api_key=openai_api.api_key, base_url=openai_api.base_url, max_retries=0) as c:
        yield c


@pytest.fixture
def transcriber(client, graph_api):
    def make(token="test-access-token", timeout_s=5.0):
        fetcher = MediaFetcher(graph_url=graph_api.url, graph_version="v25.0", access_token=token)
        return OpenAiTranscriber(client, model="gpt-4o-mini-transcribe", fetcher=fetcher, timeout_s=timeout_s)

    return make


@pytest.fixture
async def plain_host():
    """A media host of another gateway: serves bytes to anyone, records the headers it got."""
    seen = []

    async def serve(request):
        seen.append(dict(request.headers))
        return web.Response(body=OGG, content_type="audio/ogg")

    app = web.Application()
    app.router.add_get("/media/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    port = infra.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_a_meta_voice_note_is_fetched_through_graph_and_transcribed(transcriber, graph_api, openai_api):
    graph_api.standin.media["media-1"] = (OGG, "audio/ogg; codecs=opus")
    openai_api.standin.script_audio(Transcript("Onde fica o estacionamento?"))
    text = await transcriber().transcribe(voice_note(id="media-1", mime_type="audio/ogg; codecs=opus"))
    assert text == "Onde fica o estacionamento?"
    assert graph_api.standin.media_downloads == ["media-1"]
    [request] = openai_api.standin.requests
    assert request.path == "/v1/audio/transcriptions"
    assert request.body["model"] == "gpt-4o-mini-transcribe"
    assert request.body["language"] == "pt"
    assert request.file == ("voice.ogg", "audio/ogg", OGG)


async def test_another_gateways_url_is_fetched_without_the_meta_token(transcriber, plain_host, openai_api):
    url, seen = plain_host
    text = await transcriber().transcribe(
        voice_note(Provider.EVOLUTION, url=f"{url}/media/a.ogg", mime_type="audio/ogg")
    )
    assert text == openai_api.standin.default_transcript
    assert "Authorization" not in seen[0]


@pytest.mark.parametrize(
    "case",
    ["transcription_500", "unknown_media", "no_meta_token", "not_audio", "graph_refuses_token"],
)
async def test_failures_give_none(transcriber, graph_api, openai_api, case):
    graph_api.standin.media["media-1"] = (OGG, "audio/ogg")
    message = voice_note(id="media-1")
    make = transcriber
    if case == "transcription_500":
        openai_api.standin.script_audio(Status(500))
    elif case == "unknown_media":
        message = voice_note(id="media-404")
    elif case == "no_meta_token":
        make = lambda: transcriber(token=None)  # noqa: E731
    elif case == "not_audio":
        message = factories.message_received(text="oi")
    elif case == "graph_refuses_token":
        make = lambda: transcriber(token="stolen")  # noqa: E731
    assert await make().transcribe(message) is None


def test_no_openai_key_means_no_transcriber():
    assert build_transcriber(ConversationSettings(), None) is None


async def test_the_factory_uses_the_meta_settings(client, graph_api, openai_api):
    settings = ConversationSettings(
        openai_api_key=SecretStr(openai_api.api_key),
        meta_graph_url=graph_api.url,
        meta_access_token=SecretStr("test-access-token"),
    )
    graph_api.standin.media["media-2"] = (OGG, "audio/ogg")
    openai_api.standin.script_audio(Transcript("quero me inscrever"))
    transcriber = build_transcriber(settings, client)
    assert await transcriber.transcribe(voice_note(id="media-2")) == "quero me inscrever"
