"""The dialogue, script by script: real state machine, offline engine and validators (pt-BR)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.contracts import AddressKind, MediaRef, MessageKind, Provider, ReplyAddress, SendWhatsAppMessage
from conversation.domain.session import Step
from conversation.service import record_human_activity, release_handoff
from devkit import factories

pytestmark = pytest.mark.asyncio


async def register_until_summary(
    chat, *, name="Maria da Silva", email="maria@example.com", cpf="123.456.789-09"
):
    await chat.say("oi")
    await chat.say("quero me inscrever")
    await chat.say("sim")
    await chat.say(name)
    await chat.say(email)
    await chat.say(cpf)
    await chat.say("sim")  # the number the message came from
    await chat.say("rio verde")
    return await chat.say("2")


async def test_first_message_greets_with_the_event_and_the_menu(chat, knowledge):
    reply = await chat.say("oi")
    assert reply.startswith("Olá, Ana! 👋")
    assert knowledge.event.name in reply and "18 a 20 de maio de 2027" in reply
    assert "menu:register" in chat.options and "menu:human" in chat.options
    assert chat.last.to == ReplyAddress(kind=AddressKind.WA_ID, id="5561999999999")
    assert chat.last.message_id == SendWhatsAppMessage.id_for_reply(f"wamid.{chat.key}.1", 0)


async def test_happy_path_registers_and_returns_the_code(chat):
    summary = await register_until_summary(chat)
    assert "👤 Nome: Maria da Silva" in summary
    assert "📧 E-mail: maria@example.com" in summary
    assert "🪪 CPF: 123.456.789-09" in summary
    assert "📱 Telefone: +55 64 99999-0000" in summary
    assert "📍 Cidade: Rio Verde/GO" in summary
    assert "Engenheiro(a) agrônomo(a)" in summary
    assert chat.options == ["confirm:yes", "confirm:edit", "cancel"]
    done = await chat.tap("confirm:yes", "Confirmar")
    assert "Inscrição confirmada" in done and "*AGR0001*" in done
    session = chat.session
    assert session.step is Step.IDLE and session.registration_code == "AGR0001"
    assert session.form.cpf is None  # the CPF leaves the session once registered
    [submit] = [q for q in chat.registry.asked if type(q).__name__ == "Submit"]
    assert submit.form.consent_version == "2027-01" and submit.form.consented_at is not None
    assert submit.form.city_ibge_code is not None and submit.form.uf == "GO"


async def test_lgpd_consent_comes_first_and_a_no_discards_everything(chat, knowledge):
    await chat.say("oi")
    consent = await chat.say("Quero me inscrever, meu email é maria@example.com")
    assert "LGPD" in consent and knowledge.event.privacy_policy_url in consent and "2027-01" in consent
    refused = await chat.say("não")
    assert "Sem o seu consentimento" in refused
    assert chat.session.form.email is None and chat.session.step is Step.IDLE


async def test_several_fields_in_one_message_are_all_taken(chat):
    await chat.say("oi")
    await chat.say("quero me inscrever")
    await chat.say("sim")
    reply = await chat.say("Maria da Silva, maria@example.com, CPF 123.456.789-09, moro em Rio Verde/GO")
    form = chat.session.form
    assert (form.full_name, form.email, form.cpf, form.city, form.uf) == (
        "Maria da Silva",
        "maria@example.com",
        "12345678909",
        "Rio Verde",
        "GO",
    )
    assert "+55 64 99999-0000" in reply  # next: the phone, offering the number the message came from


async def test_values_sent_with_the_request_are_used_after_consent(chat):
    await chat.say("oi")
    await chat.say("Oi, quero me inscrever. Meu nome é João Pereira, email joao@example.com")
    reply = await chat.say("sim")
    assert "CPF" in reply
    assert chat.session.form.full_name == "João Pereira"


@pytest.mark.parametrize(
    ("field_prompt_answers", "bad", "expected"),
    [
        (2, "maria", "nome completo"),
        (3, "maria@", "e-mail não parece válido"),
        (4, "111.111.111-11", "CPF não é válido"),
        (4, "123", "CPF tem 11 números"),
    ],
)
async def test_invalid_answers_get_a_reprompt_that_says_what_is_wrong(
    chat, field_prompt_answers, bad, expected
):
    answers = ["oi", "quero me inscrever", "sim", "Maria da Silva", "maria@example.com"]
    for text in answers[: field_prompt_answers + 1]:
        await chat.say(text)
    reply = await chat.say(bad)
    assert expected in reply


async def test_city_is_checked_against_its_state(chat):
    await register_until_phone(chat)
    reply = await chat.say("Rio Verde/SP")
    assert "Rio Verde" in reply and "GO" in reply and "não em SP" in reply
    reply = await chat.say("sao paulo")  # São Paulo exists in one state only
    assert chat.session.form.city == "São Paulo" and chat.session.form.uf == "SP"
    assert "perfil" in reply


async def test_a_city_in_several_states_asks_for_the_state(chat):
    await register_until_phone(chat)
    reply = await chat.say("sao domingos")
    assert "“sao domingos” em BA, GO, PB, SC e SE" in reply
    reply = await chat.say("goias")
    assert chat.session.form.city == "São Domingos" and chat.session.form.uf == "GO"
    assert "perfil" in reply


async def test_unknown_state_and_unknown_city_are_reprompted(chat):
    await register_until_phone(chat)
    assert "Não encontrei a cidade" in await chat.say("Cidadezinha Inexistente")
    await chat.say("Santa Helena")
    assert "Não reconheci o estado" in await chat.say("XY")
    assert "Encontrei “Santa Helena” em MA, PB, PR, SC, não em GO" in await chat.say("GO")
    assert chat.session.form.pending_city == "Santa Helena" and chat.session.form.asking.value == "uf"
    await chat.say("PR")
    assert (chat.session.form.city, chat.session.form.uf) == ("Santa Helena", "PR")


async def register_until_phone(chat):
    for text in (
        "oi",
        "quero me inscrever",
        "sim",
        "Maria da Silva",
        "maria@example.com",
        "12345678909",
        "sim",
    ):
        await chat.say(text)
    assert chat.session.form.asking.value == "city"


async def test_correction_at_any_step(chat):
    await chat.say("oi")
    await chat.say("quero me inscrever")
    await chat.say("sim")
    await chat.say("Maria da Silva")
    await chat.say("maria@example.com")
    reply = await chat.say("na verdade meu e-mail é maria.silva@example.com")
    assert "Atualizei: e-mail" in reply and "CPF" in reply
    assert chat.session.form.email == "maria.silva@example.com"


async def test_correction_at_the_summary_shows_it_again(chat):
    await register_until_summary(chat)
    reply = await chat.say("meu nome é Maria Souza da Silva")
    assert "Atualizei: nome completo" in reply and "👤 Nome: Maria Souza da Silva" in reply
    reply = await chat.tap("confirm:edit", "Corrigir")
    assert "edit:email" in chat.options
    reply = await chat.tap("edit:email", "E-mail")
    assert "e-mail" in reply and "atual: maria@example.com" in reply
    reply = await chat.say("outro@example.com")
    assert "📧 E-mail: outro@example.com" in reply


async def test_question_mid_form_is_answered_and_the_form_resumes(chat):
    for text in ("oi", "quero me inscrever", "sim", "Maria da Silva"):
        await chat.say(text)
    reply = await chat.say("onde fica o estacionamento?")
    assert "Estacionamento" in reply or "estacionamento" in reply
    assert reply.rstrip().endswith("É para lá que vai a confirmação.")  # back to the e-mail
    assert chat.session.form.email is None


async def test_unknown_question_says_it_does_not_know_and_offers_the_team(chat):
    await chat.say("oi")
    reply = await chat.say("qual a previsão do tempo para marte?")
    assert "Não sei responder isso com certeza" in reply and "menu:human" in chat.options


async def test_back_cancel_and_restart(chat):
    for text in ("oi", "quero me inscrever", "sim", "Maria da Silva", "maria@example.com"):
        await chat.say(text)
    reply = await chat.say("voltar")
    assert "e-mail" in reply and "atual: maria@example.com" in reply
    await chat.say("maria2@example.com")
    reply = await chat.say("recomeçar")
    assert "recomeçar" in reply and "nome completo" in reply
    assert chat.session.form.full_name is None and chat.session.form.consented_at is not None
    reply = await chat.say("cancelar")
    assert "descartei" in reply and chat.session.step is Step.IDLE and chat.session.form.email is None


async def test_abandoned_form_is_offered_to_resume_or_restart(chat):
    for text in ("oi", "quero me inscrever", "sim", "Maria da Silva"):
        await chat.say(text)
    reply = await chat.say("oi", after=timedelta(days=2))
    assert "tinha começado" in reply and "e-mail" in reply
    assert chat.options == ["resume:continue", "resume:restart"]
    reply = await chat.say("continuar")
    assert "e-mail" in reply and chat.session.form.full_name == "Maria da Silva"


async def test_abandoned_form_can_be_restarted(chat):
    for text in ("oi", "quero me inscrever", "sim", "Maria da Silva"):
        await chat.say(text)
    await chat.say("oi", after=timedelta(days=2))
    reply = await chat.tap("resume:restart", "Recomeçar")
    assert "nome completo" in reply and chat.session.form.full_name is None


async def test_duplicate_cpf_is_told_kindly_with_the_way_forward(chat):
    for text in ("oi", "quero me inscrever", "sim", "Maria da Silva", "maria@example.com"):
        await chat.say(text)
    reply = await chat.say("529.982.247-25")
    assert "já tem uma inscrição" in reply and "atendente" in reply and "CPF" in reply
    assert chat.session.form.cpf is None and chat.session.form.asking.value == "cpf"


async def test_duplicate_found_only_at_submit_goes_back_to_that_field(chat):
    await register_until_summary(chat)
    chat.registry.taken.add("12345678909")
    reply = await chat.tap("confirm:yes", "Confirmar")
    assert "já tem uma inscrição" in reply and chat.session.form.asking.value == "cpf"


async def test_registration_service_down_at_submit_keeps_the_summary(chat):
    await register_until_summary(chat)
    chat.registry.down = True
    reply = await chat.tap("confirm:yes", "Confirmar")
    assert "dificuldade" in reply and "Confira seus dados" in reply
    assert chat.session.step is Step.CONFIRM
    chat.registry.down = False
    assert "Inscrição confirmada" in await chat.tap("confirm:yes", "Confirmar")


async def test_my_registration_and_cancelling_it_with_confirmation(chat):
    await register_until_summary(chat)
    await chat.tap("confirm:yes", "Confirmar")
    reply = await chat.say("minha inscrição")
    assert "AGR0001" in reply and "***.456.789-**" in reply and "12345678909" not in reply
    reply = await chat.say("quero cancelar minha inscrição")
    assert "Quer mesmo cancelar" in reply and "AGR0001" in reply
    reply = await chat.say("sim")
    assert "cancelada" in reply and chat.session.registration_code is None


async def test_cancel_registration_can_be_called_off(chat):
    await register_until_summary(chat)
    await chat.tap("confirm:yes", "Confirmar")
    await chat.say("cancelar minha inscrição")
    assert "continua ativa" in await chat.say("não")
    assert not any(type(q).__name__ == "Cancel" for q in chat.registry.asked)


async def test_handoff_silences_the_bot_until_released(chat):
    await chat.say("oi")
    reply = await chat.say("quero falar com um atendente")
    assert "chamei alguém da equipe" in reply
    [handoff] = chat.handoffs
    assert handoff.conversation_key == chat.key
    assert await chat.say("alô?") == ""  # silence while a person attends
    await release_handoff(chat.key, chat.conversation.sessions, chat.clock)
    assert "Não entendi" in await chat.say("blablabla")


async def test_handoff_ends_by_itself_after_the_timeout(chat):
    await chat.say("oi")
    await chat.say("atendente")
    assert await chat.say("oi") == ""
    assert await chat.say("oi", after=timedelta(hours=3)) != ""


async def test_the_business_replying_from_its_phone_puts_the_conversation_in_handoff(chat):
    await chat.say("oi")
    signal = factories.human_activity_detected(conversation_key=chat.key, sent_at=chat.clock)
    await record_human_activity(signal, chat.conversation)
    assert await chat.say("obrigado!") == ""


async def test_voice_note_without_transcription_asks_for_text(chat):
    await chat.say("oi")
    voice = MediaRef(id="media.1", mime_type="audio/ogg; codecs=opus", voice=True)
    reply = await chat.say(None, kind=MessageKind.AUDIO, media=voice)
    assert "áudio" in reply and "escrever" in reply


@pytest.mark.parametrize(
    "kind", [MessageKind.STICKER, MessageKind.LOCATION, MessageKind.IMAGE, MessageKind.UNSUPPORTED]
)
async def test_unsupported_kinds_get_a_polite_answer(chat, kind):
    await chat.say("oi")
    reply = await chat.say(None, kind=kind)
    assert "só entendo mensagens de texto" in reply


async def test_a_reaction_is_not_answered(chat):
    await chat.say("oi")
    from common.contracts import Reaction

    assert (
        await chat.say(None, kind=MessageKind.REACTION, reaction=Reaction(message_id="x", emoji="👍")) == ""
    )


async def test_menu_topics_answer_from_the_event_file(chat, knowledge):
    await chat.say("oi")
    assert knowledge.venue.address in await chat.tap("menu:venue", "Local e datas")
    assert "R$ 390,00" in await chat.tap("menu:prices", "Valores e lotes")
    assert "Soja e milho safrinha" in await chat.tap("menu:programme", "Programação")


async def test_numbered_text_for_providers_without_buttons(chat):
    chat.provider = Provider.EVOLUTION
    reply = await chat.say("oi")
    assert "1️⃣ Programação" in reply and "7️⃣ Falar com a equipe" in reply
    reply = await chat.say("3")
    assert "R$ 390,00" in reply


async def test_a_redelivered_message_is_not_answered_twice(chat):
    await chat.say("oi")
    message = factories.message_received(
        provider_message_id=f"wamid.{chat.key}.1", conversation_key=chat.key, business_id="biz"
    )
    from conversation.service import handle_message

    assert await handle_message(message, chat.conversation) == 0
