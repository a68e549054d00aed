# ruff: noqa: E501  (the pattern tables read best one pattern per line)
"""The offline engine (default, no key needed): rules and fuzzy matching, FAQ by retrieval.

Good enough to register anyone who cooperates: commands are recognised by their usual words (with
or without accents), labelled or recognisable values (e-mail, CPF, phone, "meu nome é …",
"Rio Verde/GO") are pulled out of any message, and a bare answer is taken as the field the bot
asked for. Questions are answered from the knowledge file or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from rapidfuzz import fuzz
from validate_docbr import CPF

from conversation.domain.places import fold, split_city_and_state
from conversation.domain.understanding import EngineContext, Expecting, FormField, Intent, Understanding
from conversation.engines.retrieval import KnowledgeIndex
from conversation.knowledge import EventKnowledge

# Whole-message commands (folded text); checked in this order, the first match wins.
_COMMANDS: tuple[tuple[Intent, re.Pattern[str]], ...] = tuple(
    (intent, re.compile(rf"^(?:{pattern})$"))
    for intent, pattern in (
        (Intent.HUMAN, r".*\b(atendente|humano|falar com (alguem|uma pessoa|a equipe|equipe|voces))\b.*"),
        (Intent.CANCEL_REGISTRATION, r".*\bcancel\w* (a |minha |meu )?(inscricao|cadastro|participacao)\b.*"),
        (Intent.MY_REGISTRATION, r".*\b(minha inscricao|meu cadastro|meu codigo|status da (minha )?inscricao)\b.*"),
        (Intent.RESTART, r"(quero )?(recomecar|comecar de novo|reiniciar|do zero|recomeca)( tudo)?"),
        (Intent.BACK, r"(quero )?(voltar|volta|anterior|passo anterior)"),
        (Intent.CANCEL, r"(quero )?(cancelar|cancela|cancelo|parar|para|sair|desistir|desisto)( tudo)?"),
        (Intent.MENU, r"(ver )?(o )?(menu|opcoes|inicio|menu principal)"),
        (Intent.YES, r"(sim|s|ss|isso|ok|okay|pode|pode sim|claro|concordo|aceito|confirmo|confirmar|"
                     r"confirma|correto|certo|ta certo|esta certo|tudo certo|positivo|yes|continuar|"
                     r"continua|quero continuar|sim concordo|sim pode|pode ser|beleza|blz|perfeito|👍)[.! ]*"),
        (Intent.NO, r"(nao|n|nao concordo|negativo|errado|nao quero|nao obrigado|no|corrigir|"
                    r"quero corrigir|esta errado|ta errado)[.! ]*"),
        (Intent.THANKS, r"(muito )?(obrigad[oa]|valeu|brigad[oa]|obg|vlw)( mesmo)?[.! ]*"),
        (Intent.GREETING, r"(oi+|ola|opa|bom dia|boa tarde|boa noite|e ai|hello|hi|oie)( tudo bem)?[.!? ]*"),
        (Intent.REGISTER, r".*\b(inscrever|inscricao|me cadastrar|cadastro|participar|garantir (minha )?vaga)\b.*"),
    )
)  # fmt: skip

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CPF_LIKE = re.compile(r"(?<!\d)\d{3}\.?\d{3}\.?\d{3}[-.\s]?\d{2}(?!\d)")
_PHONE_LIKE = re.compile(r"(?<![\w@])(?:\+?55[\s-]?)?\(?\d{2}\)?[\s-]?9?\d{4}[\s-]?\d{4}(?!\d)")
_LABELLED: tuple[tuple[FormField, re.Pattern[str]], ...] = tuple(
    (field, re.compile(pattern, re.IGNORECASE))
    for field, pattern in (
        (FormField.FULL_NAME, r"\b(?:meu nome (?:completo )?(?:é|e)|me chamo|nome(?: completo)?\s*:)\s*([^,;\n]+)"),
        (FormField.CITY, r"\b(?:moro em|sou de|cidade\s*:|resido em|minha cidade (?:é|e))\s*([^,;\n]+(?:[,/-]\s*[A-Za-z]{2}\b)?)"),
        (FormField.UF, r"\b(?:estado|uf)(?:\s*:|\s+(?:é|e)\b)\s*([^,;\n]+)"),
        (FormField.PROFILE, r"\b(?:perfil|sou)\b(?:\s*:|\s+(?:é|e)\b)?\s*([^,;\n]+)"),
    )
)  # fmt: skip
_QUESTION_START = re.compile(
    r"^(qual|quais|quando|onde|como|quanto|quantos|quantas|que horas|o que|tem|existe|vai ter|havera|"
    r"preciso|posso|pode|da pra|e possivel|aceita|aceitam|e gratuito|quem)\b"
)
# What people type before an answer: "é ...", "o meu e-mail é ...", "na verdade ...".
_LEADIN = re.compile(
    r"^(?:na verdade|alias|corrigindo|ops|opa)?[\s,]*(?:(?:o |a )?(?:meu|minha) [\w-]+(?: completo)? (?:é|e)|é|e|sou)?\s*[:,-]?\s*",
    re.IGNORECASE,
)
_CPF = CPF()


class OfflineEngine:
    name = "offline"

    def __init__(self, knowledge: EventKnowledge, today: Callable[[], date] = date.today) -> None:
        self._index = KnowledgeIndex(knowledge)
        self._today = today

    async def interpret(self, text: str, context: EngineContext) -> Understanding:
        return self.read(text, context)

    def read(self, text: str, context: EngineContext) -> Understanding:
        folded = fold(text)
        intent = _command(folded, context)
        question = ("?" in text or bool(_QUESTION_START.match(folded))) and intent not in _ANSWERS
        option = _option(folded, context)
        if option is not None and intent is Intent.NONE and not question:
            return Understanding(option=option, engine=self.name)
        # A bare reply is the field asked for; a question or a command is not.
        slots = _slots(text, context, bare_answer=intent is Intent.NONE and not question)
        answer = self._index.answer(text, self._today()) if question else None
        return Understanding(
            intent=Intent.QUESTION if question and intent is Intent.NONE else intent,
            slots=slots,
            option=option,
            answer=answer,
            question=question,
            engine=self.name,
        )


_ANSWERS = {Intent.YES, Intent.NO, Intent.GREETING, Intent.THANKS}


def _option(folded: str, context: EngineContext) -> str | None:
    if not context.options:
        return None
    number = re.fullmatch(r"(?:opcao\s*)?(\d{1,2})[.)]?", folded)
    if number:
        index = int(number.group(1)) - 1
        return context.options[index].id if 0 <= index < len(context.options) else None
    scored = [(fuzz.ratio(folded, fold(o.label)), o.id) for o in context.options]
    best = max(scored)
    return best[1] if best[0] >= 85 else None


def _command(folded: str, context: EngineContext) -> Intent:
    for intent, pattern in _COMMANDS:
        if pattern.match(folded):
            if intent is Intent.CANCEL_REGISTRATION and context.expecting not in {Expecting.MENU}:
                return Intent.CANCEL  # while filling the form, "cancelar inscrição" stops the form
            if intent is Intent.REGISTER and context.expecting is not Expecting.MENU:
                continue  # mid-form, the word "inscrição" is not a new request
            return intent
    return Intent.NONE


def _slots(text: str, context: EngineContext, *, bare_answer: bool) -> dict[FormField, str]:
    slots: dict[FormField, str] = {}
    rest = text
    if m := _EMAIL.search(rest):
        slots[FormField.EMAIL] = m.group(0)
        rest = rest.replace(m.group(0), " ")
    for m in _CPF_LIKE.finditer(rest):
        digits = re.sub(r"\D", "", m.group(0))
        if _CPF.validate(digits) or context.expecting is Expecting.CPF or "cpf" in fold(text):
            slots[FormField.CPF] = m.group(0)
            rest = rest.replace(m.group(0), " ")
            break
    phone_wanted = context.expecting is Expecting.PHONE or re.search(
        r"telefone|celular|whats|fone|numero", fold(text)
    )
    if phone_wanted and (m := _PHONE_LIKE.search(rest)):
        slots[FormField.PHONE] = m.group(0)
        rest = rest.replace(m.group(0), " ")
    for field, pattern in _LABELLED:
        if field not in slots and (m := pattern.search(rest)):
            value = m.group(1).strip(" .!")
            if value:
                slots[field] = value
                rest = rest.replace(m.group(0), " ")
    expected = context.expecting.field
    if bare_answer and expected is not None and expected not in slots:
        leftover = _answer_text(rest)
        parts = [p.strip() for p in re.split(r"[,;\n]| e meu | e minha ", leftover) if p.strip()]
        if expected is FormField.CITY or expected is FormField.UF:
            parts = [leftover] if leftover else []
        if parts:
            slots[expected] = parts[0]
            for extra in parts[1:]:  # "Maria Silva, Rio Verde/GO": a place with its state
                name, state = split_city_and_state(extra)
                if state is not None and FormField.CITY not in slots and name:
                    slots[FormField.CITY] = extra
    return slots


def _answer_text(text: str) -> str:
    return _LEADIN.sub("", text.strip(), count=1).strip(" .!,;:-")
