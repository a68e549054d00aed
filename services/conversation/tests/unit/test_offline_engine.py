"""The offline engine: commands, values pulled out of free text, options, FAQ by retrieval."""

from __future__ import annotations

from datetime import date

import pytest

from conversation.domain.understanding import EngineContext, Expecting, FormField, Intent, Option
from conversation.engines.offline import OfflineEngine

MENU = EngineContext(expecting=Expecting.MENU)


@pytest.fixture(scope="module")
def engine(knowledge):
    return OfflineEngine(knowledge, today=lambda: date(2027, 1, 10))


@pytest.mark.parametrize(
    ("text", "context", "intent"),
    [
        ("Sim", Expecting.CONSENT, Intent.YES),
        ("pode sim!", Expecting.YES_NO, Intent.YES),
        ("NÃO", Expecting.CONSENT, Intent.NO),
        ("voltar", Expecting.EMAIL, Intent.BACK),
        ("Cancelar", Expecting.CPF, Intent.CANCEL),
        ("cancelar minha inscrição", Expecting.EMAIL, Intent.CANCEL),  # mid-form: stop the form
        ("cancelar minha inscrição", Expecting.MENU, Intent.CANCEL_REGISTRATION),
        ("recomeçar", Expecting.PHONE, Intent.RESTART),
        ("quero falar com um atendente", Expecting.EMAIL, Intent.HUMAN),
        ("minha inscricao", Expecting.MENU, Intent.MY_REGISTRATION),
        ("quero me inscrever", Expecting.MENU, Intent.REGISTER),
        ("bom dia", Expecting.MENU, Intent.GREETING),
        ("obrigada!", Expecting.MENU, Intent.THANKS),
        ("menu", Expecting.CITY, Intent.MENU),
    ],
)
def test_commands(engine, text, context, intent):
    assert engine.read(text, EngineContext(expecting=context)).intent is intent


def test_values_are_pulled_out_of_free_text(engine):
    u = engine.read(
        "Oi! Meu nome é Maria da Silva, email MARIA@Example.com, cpf 123.456.789-09, telefone (64) 99888-7766",
        MENU,
    )
    assert u.intent is Intent.REGISTER or u.intent is Intent.NONE
    assert u.slots[FormField.FULL_NAME] == "Maria da Silva"
    assert u.slots[FormField.EMAIL] == "MARIA@Example.com"  # raw: the validator normalises
    assert u.slots[FormField.CPF] == "123.456.789-09"
    assert u.slots[FormField.PHONE] == "(64) 99888-7766"


def test_a_bare_answer_is_the_field_asked_for(engine):
    assert engine.read("é Maria da Silva", EngineContext(expecting=Expecting.FULL_NAME)).slots == {
        FormField.FULL_NAME: "Maria da Silva"
    }
    assert engine.read("Rio Verde - GO", EngineContext(expecting=Expecting.CITY)).slots == {
        FormField.CITY: "Rio Verde - GO"
    }


def test_a_correction_of_another_field_is_recognised(engine):
    u = engine.read("na verdade meu e-mail é novo@example.com", EngineContext(expecting=Expecting.CPF))
    assert u.slots == {FormField.EMAIL: "novo@example.com"}


def test_an_eleven_digit_phone_is_not_taken_for_a_cpf(engine):
    u = engine.read("64998887766", EngineContext(expecting=Expecting.PHONE))
    assert u.slots == {FormField.PHONE: "64998887766"}


def test_options_by_number_or_label(engine):
    context = EngineContext(
        expecting=Expecting.MENU, options=(Option("a", "Programação"), Option("b", "Valores"))
    )
    assert engine.read("2", context).option == "b"
    assert engine.read("opção 1", context).option == "a"
    assert engine.read("programacao", context).option == "a"
    assert engine.read("9", context).option is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("onde vai ser o evento?", "Avenida das Palmeiras"),
        ("quanto custa?", "R$ 390,00"),
        ("tem estacionamnto?", "1.500 vagas"),  # a typo
        ("vou receber certificado?", "certificado digital"),
        ("quem é a Juliana Moraes?", "Agricultura de Precisão"),
        ("quando é o congresso?", "18 a 20 de maio de 2027"),
    ],
)
def test_questions_are_answered_from_the_event_file(engine, question, expected):
    u = engine.read(question, MENU)
    assert u.question and u.intent is Intent.QUESTION
    assert u.answer is not None and expected in u.answer


def test_a_question_outside_the_event_file_has_no_answer(engine):
    u = engine.read("qual a capital da França?", MENU)
    assert u.question and u.answer is None


def test_a_question_mid_form_is_not_taken_as_the_answer(engine):
    u = engine.read("qual o horário de abertura?", EngineContext(expecting=Expecting.EMAIL))
    assert u.question and FormField.EMAIL not in u.slots


def test_labels_match_whole_words_only(engine):
    u = engine.read("Ana Clara Souza, ana@example.com", EngineContext(expecting=Expecting.FULL_NAME))
    assert u.slots == {FormField.FULL_NAME: "Ana Clara Souza", FormField.EMAIL: "ana@example.com"}
    assert engine.read("sou estudante", EngineContext(expecting=Expecting.EMAIL)).slots == {
        FormField.PROFILE: "estudante"
    }
