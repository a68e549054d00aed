"""pt-BR conversations end to end: signed webhooks in, the four services over the real broker,
Redis and PostgreSQL with the offline engine, replies read at the Graph API stand-in.

Each script is one WhatsApp user (their own number), so scripts do not see each other's replies.
"""

from __future__ import annotations

import re

import pytest

from devkit import samples
from devkit.whatsapp_user import WhatsAppUser

pytestmark = pytest.mark.e2e


async def register(user: WhatsAppUser, *, cpf: str, email: str) -> str:
    assert "Olá, Test!" in await user.say("oi")
    assert "LGPD" in await user.say("quero me inscrever")
    assert "nome completo" in await user.tap("yes", "Sim")
    assert "e-mail" in await user.say("Maria da Silva")
    assert "CPF" in await user.say(email)
    assert "Posso usar este número" in await user.say(cpf)
    assert "cidade" in await user.tap("yes", "Sim")
    assert "perfil" in await user.say("rio verde")
    summary = await user.say("produtor rural")
    assert "👤 Nome: Maria da Silva" in summary and "📍 Cidade: Rio Verde/GO" in summary
    return await user.tap("confirm:yes", "Confirmar")


async def test_happy_path_registers_in_the_database(system):
    user = WhatsAppUser(system)
    done = await register(user, cpf="111.444.777-35", email="maria.happy@example.com")
    assert "Inscrição confirmada" in done and "AGR-" in done
    [code] = re.findall(r"AGR-[2-9A-Z]{6}", done)
    mine = await user.say("minha inscrição")
    assert code in mine and "confirmada" in mine
    assert "***.444.777-**" in mine and "111.444.777-35" not in mine


async def test_duplicate_cpf_from_another_number_is_told_kindly(system):
    first, second = WhatsAppUser(system), WhatsAppUser(system)
    await register(first, cpf="529.982.247-25", email="first.dup@example.com")
    await second.say("oi")
    await second.say("quero me inscrever")
    await second.tap("yes", "Sim")
    await second.say("João Pereira")
    await second.say("joao.dup@example.com")
    reply = await second.say("52998224725")
    assert "já tem uma inscrição" in reply and "atendente" in reply


async def test_invalid_answers_are_reprompted(system):
    user = WhatsAppUser(system)
    await user.say("oi")
    await user.say("quero me inscrever")
    await user.tap("yes", "Sim")
    assert "nome completo" in await user.say("maria")
    await user.say("Maria da Silva")
    assert "não parece válido" in await user.say("maria@@example")
    await user.say("maria.invalid@example.com")
    assert "CPF não é válido" in await user.say("123.456.789-00")
    await user.say("390.533.447-05")
    await user.say("não")
    await user.say("64 99988-7766")
    assert "não em SP" in await user.say("Rio Verde/SP")


async def test_multi_field_message_correction_cancel_and_resume(system):
    user = WhatsAppUser(system)
    await user.say("oi")
    await user.say("quero me inscrever")
    await user.tap("yes", "Sim")
    reply = await user.say("Ana Clara Souza, ana.multi@example.com, CPF 714.602.380-01")
    assert "Posso usar este número" in reply
    reply = await user.say("na verdade meu e-mail é ana.clara@example.com")
    assert "Atualizei: e-mail" in reply
    assert "descartei" in await user.say("cancelar")
    assert "LGPD" in await user.say("quero me inscrever")  # starts over: nothing was kept


async def test_handoff_keeps_the_bot_silent(system):
    user = WhatsAppUser(system)
    await user.say("oi")
    assert "chamei alguém da equipe" in await user.say("quero falar com um atendente")
    await user.post(samples.meta_text("oi, tem alguém aí?", wamid=user.next_wamid(), wa_id=user.wa_id))
    assert await user.silence(1.5)


async def test_voice_note_without_transcription_and_unsupported_kinds(system):
    user = WhatsAppUser(system)
    await user.say("oi")
    assert "não consigo ouvir áudios" in await user.send_media("audio", voice=True)
    assert "só entendo mensagens de texto" in await user.send_media("sticker")
