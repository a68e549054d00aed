"""Whatever a person types, at whatever step, the bot answers (never silence, never a crash), and
nothing unvalidated reaches the form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.contracts import MessageKind
from conversation.domain import machine, validation
from conversation.domain.machine import Inbound
from conversation.engines.offline import OfflineEngine

AT = datetime(2027, 1, 10, tzinfo=UTC)
# The steps a conversation can be in, reached by real messages.
PATHS = [
    [],
    ["quero me inscrever"],
    ["quero me inscrever", "sim"],
    ["quero me inscrever", "sim", "Maria da Silva"],
    ["quero me inscrever", "sim", "Maria da Silva", "maria@example.com", "12345678909", "não", "64 99988-7766"],
    ["quero me inscrever", "sim", "Maria da Silva", "maria@example.com", "12345678909", "não",
     "64 99988-7766", "sao domingos"],
    ["quero me inscrever", "sim", "Maria da Silva", "maria@example.com", "12345678909", "não",
     "64 99988-7766", "rio verde", "estudante"],
]  # fmt: skip
WORDS = st.sampled_from(
    ["sim", "não", "voltar", "cancelar", "recomeçar", "menu", "atendente", "minha inscrição", "?", "2", "GO",
     "maria@x.com", "123.456.789-09", "Rio Verde/GO", "na verdade meu e-mail é a@b.co", "", "🙂", "\\n"]
)  # fmt: skip
TEXTS = st.one_of(st.text(max_size=200), st.lists(WORDS, min_size=1, max_size=5).map(" ".join))


def drive(knowledge, texts: list[str]):
    engine = OfflineEngine(knowledge)
    session = None
    outcome = None
    for i, text in enumerate(texts):
        inbound = Inbound("meta:b:1", f"w{i}", AT + timedelta(seconds=i), MessageKind.TEXT, text=text or None)
        understanding = engine.read(text, machine.context_for(session)) if text else machine.Understanding()
        outcome = machine.on_message(session, inbound, understanding, knowledge)
        session = outcome.session
    return outcome


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), text=TEXTS)
def test_any_text_at_any_step_gets_an_answer_and_keeps_the_form_valid(knowledge, path, text):
    outcome = drive(knowledge, [*path, text])
    assert outcome is not None
    assert outcome.replies or outcome.query is not None or outcome.handoff_requested
    form = outcome.session.form
    if form.email:
        assert isinstance(validation.email(form.email), validation.Valid)
    if form.cpf:
        assert isinstance(validation.cpf(form.cpf), validation.Valid)
    if form.city and form.uf:
        assert isinstance(validation.city(form.city, form.uf), validation.Valid)
