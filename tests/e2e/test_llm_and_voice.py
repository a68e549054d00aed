"""The whole system with an LLM configured (a local OpenAI-compatible stand-in): the LLM reads the
person's words, the state machine still decides; when the LLM fails the offline engine answers;
voice notes are transcribed and handled as text."""

from __future__ import annotations

import pytest
import pytest_asyncio

from devkit.openai_standin import Status, ToolCall
from devkit.pytest_plugin import run_system
from devkit.whatsapp_user import WhatsAppUser

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(scope="module")
async def llm_system(amqp_url, redis_url, database_url, notifier_database_url, graph_server, openai_server):
    env = {
        "OPENAI_API_KEY": openai_server.api_key,
        "OPENAI_BASE_URL": openai_server.base_url,
        "OPENAI_MAX_ATTEMPTS": "2",
        "OPENAI_BREAKER_THRESHOLD": "50",
    }
    async with run_system(
        amqp_url, redis_url, database_url, graph_server, env, notifier_database_url=notifier_database_url
    ) as system:
        yield system


@pytest.fixture
def system(llm_system, graph_api, openai_api):
    return llm_system


def args(intent="none", slots=None, option=None, question=False, answer=None):
    return {"intent": intent, "slots": slots or {}, "option": option, "question": question, "answer": answer}


async def test_the_llm_reads_free_text_and_the_state_machine_validates_it(system, openai_server):
    user = WhatsAppUser(system)
    openai_server.standin.script_chat(ToolCall(args(intent="greeting")))
    assert "Olá, Test!" in await user.say("eae, blz?")
    openai_server.standin.script_chat(ToolCall(args(intent="register")))
    assert "LGPD" in await user.say("bora fazer minha inscrição")
    openai_server.standin.script_chat(ToolCall(args(intent="yes")))
    assert "nome completo" in await user.say("pode pá")
    # The LLM proposes two values; the e-mail is invalid, so the validator re-asks for it.
    openai_server.standin.script_chat(
        ToolCall(args(slots={"full_name": "José das Couves", "email": "ze@@couves"}))
    )
    reply = await user.say("sou o zé das couves, meu email é ze@@couves")
    assert "Prazer, José" in reply and "não parece válido" in reply
    [last] = openai_server.standin.chat_requests()[-1:]
    user_turn = last.messages()[-1]
    assert user_turn["role"] == "user" and "ze@@couves" in user_turn["content"]
    assert "ze@@couves" not in last.messages()[0]["content"]  # the system prompt never holds user text


async def test_when_the_llm_fails_the_offline_engine_answers(system, openai_server):
    user = WhatsAppUser(system)
    openai_server.standin.script_chat(Status(500), Status(500), Status(500), Status(500))
    reply = await user.say("quero me inscrever")
    assert "LGPD" in reply  # the offline engine understood it


async def test_a_voice_note_is_transcribed_and_handled_as_text(system, graph_server, openai_server):
    user = WhatsAppUser(system)
    openai_server.standin.script_chat(ToolCall(args(intent="greeting")))
    await user.say("oi")
    media_id = f"media.wamid.script.{user.wa_id}.2"
    graph_server.standin.media[media_id] = (b"OggS fake opus", "audio/ogg")
    openai_server.standin.default_transcript = "quero me inscrever"
    openai_server.standin.script_chat(ToolCall(args(intent="register")))
    reply = await user.send_media("audio", voice=True)
    assert "LGPD" in reply
    assert media_id in graph_server.standin.media_downloads
    [transcription] = [r for r in openai_server.standin.requests if r.path.endswith("/audio/transcriptions")]
    assert transcription.file is not None and transcription.file[2] == b"OggS fake opus"
